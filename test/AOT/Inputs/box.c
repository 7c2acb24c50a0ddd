/* Runs the AOT-compiled box model (Inputs/box.mlir) on the image 0..15 and
 * prints its outputs, then calls it with bad arguments and prints the status
 * codes. Valid C and C++; with EMBEDDED the filter is inside the object. */

#include "box.h"

#include <stdio.h>

static void print(const char *name, const float *values, int rows, int cols) {
  printf("%s:\n", name);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c)
      printf(" %g", values[r * cols + c]);
    printf("\n");
  }
}

static void report(const char *call, int status) {
  printf("%s -> %d (%s)\n", call, status, tessel_status_string(status));
}

int main(void) {
  static float image[BOX_IMAGE_SIZE], sums[BOX_SUMS_SIZE], peaks[BOX_PEAKS_SIZE];
  static float filter[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  static float bias[BOX_BIAS_SIZE] = {0.5f};
  for (int i = 0; i < BOX_IMAGE_SIZE; ++i)
    image[i] = (float)i;
  (void)filter;
#ifdef EMBEDDED
#define RUN(image, sums) box_run(image, bias, sums, peaks)
#else
#define RUN(image, sums) box_run(image, filter, bias, sums, peaks)
#endif
  report("run", RUN(image, sums));
  print("sums", sums, 4, 4);
  print("peaks", peaks, 2, 2);

  report("null image", RUN((const float *)0, sums));
  report("null output", RUN(image, (float *)0));
  report("misaligned image", RUN((const float *)((const char *)image + 2), sums));
  report("output over the image", RUN(image, (float *)image + 3));

  const int64_t imageShape[] = BOX_IMAGE_SHAPE, sumsShape[] = BOX_SUMS_SHAPE,
                peaksShape[] = BOX_PEAKS_SHAPE, biasShape[] = BOX_BIAS_SHAPE;
  const int64_t filterShape[] = {1, 1, 3, 3}, wrongShape[] = {1, 1, 4, 5};
  tessel_tensor inputs[3] = {{image, BOX_IMAGE_RANK, imageShape},
                             {filter, 4, filterShape},
                             {bias, BOX_BIAS_RANK, biasShape}};
#ifdef EMBEDDED
  inputs[1] = inputs[2];
#endif
  tessel_tensor outputs[2] = {{sums, BOX_SUMS_RANK, sumsShape},
                              {peaks, BOX_PEAKS_RANK, peaksShape}};
  for (int i = 0; i < BOX_SUMS_SIZE; ++i)
    sums[i] = 0;
  report("tensors", box_run_tensors(inputs, BOX_NUM_INPUTS, outputs, BOX_NUM_OUTPUTS));
  print("sums again", sums, 4, 4);
  report("too few inputs", box_run_tensors(inputs, BOX_NUM_INPUTS - 1, outputs, 2));
  outputs[0].shape = wrongShape;
  report("wrong output shape", box_run_tensors(inputs, BOX_NUM_INPUTS, outputs, 2));
  outputs[0].shape = sumsShape;
  inputs[0].rank = 3;
  report("wrong input rank", box_run_tensors(inputs, BOX_NUM_INPUTS, outputs, 2));
  inputs[0].rank = 4;
  report("null tensors", box_run_tensors((const tessel_tensor *)0, BOX_NUM_INPUTS, outputs, 2));
  return 0;
}
