/* Two models compiled ahead of time, linked into one program: each object's
   internal symbols (its kernels) must stay its own. */
#include "a.h"
#include "b.h"

#include <stdio.h>

int main(void) {
  int32_t (*runs[])(const float *, const float *, const float *, float *, float *) = {a_run,
                                                                                    b_run};
  printf("linked %d models\n", (int)(sizeof runs / sizeof runs[0]));
  return 0;
}
