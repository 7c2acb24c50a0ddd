/* The AOT half of `make demo`: a plain C program linked with the object
 * tessel-demo compiled ahead of time (resnet.o, resnet.h) and the Tessel
 * runtime; no MLIR or LLVM. It runs the network on the image tessel-demo
 * saved, compares with the reference probabilities saved beside it, and
 * prints the median latency.
 *
 *   aot-demo DIR   (DIR holds image.f32 and expected.f32) */

#include "resnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int readFloats(const char *dir, const char *name, float *data, size_t count) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  size_t got = f ? fread(data, sizeof(float), count, f) : 0;
  if (f)
    fclose(f);
  if (got != count)
    fprintf(stderr, "aot-demo: cannot read %zu floats from %s\n", count, path);
  return got == count;
}

static double nowMs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int compareDoubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  static float image[RESNET_IMAGE_SIZE], expected[RESNET_PROBABILITIES_SIZE],
      probabilities[RESNET_PROBABILITIES_SIZE];
  if (!readFloats(argv[1], "image.f32", image, RESNET_IMAGE_SIZE) ||
      !readFloats(argv[1], "expected.f32", expected, RESNET_PROBABILITIES_SIZE))
    return 1;

  int status = resnet_run(image, probabilities);
  if (status != TESSEL_OK) {
    fprintf(stderr, "aot-demo: resnet_run failed: %s\n", tessel_status_string(status));
    return 1;
  }
  double worst = 0;
  for (int i = 0; i < RESNET_PROBABILITIES_SIZE; ++i)
    worst = fmax(worst, fabs((double)probabilities[i] - expected[i]));
  printf("AOT object in a C program: class probabilities of image 0:");
  for (int i = 0; i < 10; ++i)
    printf(" %.4f", probabilities[i]);
  printf("\nmatches the naive reference: %s (max abs diff %.2g)\n",
         worst <= 1e-4 ? "yes" : "NO", worst);

  double ms[10];
  for (int r = 0; r < 10; ++r) {
    double start = nowMs();
    resnet_run(image, probabilities);
    ms[r] = nowMs() - start;
  }
  qsort(ms, 10, sizeof(double), compareDoubles);
  printf("median latency %.2f ms over 10 runs (1 thread)\n", ms[5]);
  return worst <= 1e-4 ? 0 : 1;
}
