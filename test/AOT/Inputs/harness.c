/* A C program for any model compiled with --prefix model: built with
 * `-include model.h`, it drives model_run_tensors through the header's
 * macros alone.
 *
 *   harness gen DIR          writes seeded random inputs as DIR/<input>.npy
 *   harness check DIR REF [--of-scale]
 *                            runs the model on DIR's inputs and compares each
 *                            output with REF/<output>.npy (the JIT's, or
 *                            PyTorch's)
 *
 * check prints one line per output and exits 1 when an output differs by
 * more than 1e-5 + 1e-4 * |reference|, or with --of-scale by more than
 * 1e-4 * max |reference| (the PyTorch zoo's rule). A model compiled with
 * --weights=file loads its weights from the file named by $WEIGHTS. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *inputNames[] = MODEL_INPUT_NAMES;
static const char *outputNames[] = MODEL_OUTPUT_NAMES;
static const int64_t inputRanks[] = MODEL_INPUT_RANKS;
static const int64_t outputRanks[] = MODEL_OUTPUT_RANKS;
static const int64_t inputShapes[] = MODEL_INPUT_SHAPES;
static const int64_t outputShapes[] = MODEL_OUTPUT_SHAPES;
static const int64_t inputSizes[] = MODEL_INPUT_SIZES;
static const int64_t outputSizes[] = MODEL_OUTPUT_SIZES;

static void path(char *out, const char *dir, const char *name) {
  snprintf(out, 4096, "%s/%s.npy", dir, name);
}

static int writeNpy(const char *file, const float *data, int64_t rank,
                    const int64_t *shape, int64_t size) {
  char dict[512];
  int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int64_t d = 0; d < rank; ++d)
    n += snprintf(dict + n, sizeof dict - n, "%lld,%s", (long long)shape[d],
                  d + 1 < rank ? " " : "");
  n += snprintf(dict + n, sizeof dict - n, "), }");
  while ((10 + n + 1) % 64)
    dict[n++] = ' ';
  dict[n++] = '\n';
  FILE *f = fopen(file, "wb");
  if (!f)
    return 1;
  unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                (unsigned char)(n & 0xff), (unsigned char)(n >> 8)};
  fwrite(preamble, 1, 10, f);
  fwrite(dict, 1, n, f);
  fwrite(data, sizeof(float), size, f);
  return fclose(f) != 0;
}

/* Reads a little-endian float32 C-order .npy of `size` elements. */
static int readNpy(const char *file, float *data, int64_t size) {
  FILE *f = fopen(file, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", file);
    return 1;
  }
  unsigned char preamble[10];
  int ok = fread(preamble, 1, 10, f) == 10 && preamble[6] == 1;
  size_t headerLength = preamble[8] | (size_t)preamble[9] << 8;
  char header[65536];
  ok = ok && fread(header, 1, headerLength, f) == headerLength;
  header[ok ? headerLength : 0] = 0;
  ok = ok && strstr(header, "'<f4'") && strstr(header, "False");
  ok = ok && fread(data, sizeof(float), size, f) == (size_t)size;
  fclose(f);
  if (!ok)
    fprintf(stderr, "%s is not a float32 .npy of %lld elements\n", file, (long long)size);
  return !ok;
}

int main(int argc, char **argv) {
  if (argc < 3 || (strcmp(argv[1], "gen") && (strcmp(argv[1], "check") || argc < 4))) {
    fprintf(stderr, "usage: %s gen DIR | check DIR REF [--of-scale]\n", argv[0]);
    return 2;
  }
  int ofScale = argc > 4 && !strcmp(argv[4], "--of-scale");
  char file[4096];
  tessel_tensor inputs[MODEL_NUM_INPUTS + 1], outputs[MODEL_NUM_OUTPUTS + 1];
  const int64_t *shape = inputShapes;
  unsigned state = 12345;
  for (int i = 0; i < MODEL_NUM_INPUTS; ++i) {
    float *data = malloc(sizeof(float) * inputSizes[i]);
    inputs[i] = (tessel_tensor){data, inputRanks[i], shape};
    path(file, argv[2], inputNames[i]);
    if (!strcmp(argv[1], "gen")) {
      for (int64_t j = 0; j < inputSizes[i]; ++j) {
        state = state * 1103515245u + 12345u;
        data[j] = (float)((state >> 8) & 0xffff) / 32768.0f - 1.0f;
      }
      if (writeNpy(file, data, inputRanks[i], shape, inputSizes[i])) {
        fprintf(stderr, "cannot write %s\n", file);
        return 1;
      }
    } else if (readNpy(file, data, inputSizes[i])) {
      return 1;
    }
    shape += inputRanks[i];
  }
  if (!strcmp(argv[1], "gen"))
    return 0;

  shape = outputShapes;
  for (int i = 0; i < MODEL_NUM_OUTPUTS; ++i) {
    outputs[i] = (tessel_tensor){malloc(sizeof(float) * outputSizes[i]), outputRanks[i], shape};
    shape += outputRanks[i];
  }
#ifdef MODEL_WEIGHTS_FILE
  /* Weights in a file: a run before they are loaded is an error; then they
   * are read from $WEIGHTS, whose status is printed. */
  printf("run before loading: %s\n",
         tessel_status_string(
             model_run_tensors(inputs, MODEL_NUM_INPUTS, outputs, MODEL_NUM_OUTPUTS)));
  int loaded = model_load_weights(getenv("WEIGHTS"));
  printf("load_weights: %s\n", tessel_status_string(loaded));
  if (loaded != TESSEL_OK)
    return 1;
#endif
  int status = model_run_tensors(inputs, MODEL_NUM_INPUTS, outputs, MODEL_NUM_OUTPUTS);
#ifdef MODEL_WEIGHTS_FILE
  model_free_weights();
  printf("run after freeing: %s\n",
         tessel_status_string(
             model_run_tensors(inputs, MODEL_NUM_INPUTS, outputs, MODEL_NUM_OUTPUTS)));
#endif
  if (status != TESSEL_OK) {
    printf("model_run_tensors: %s\n", tessel_status_string(status));
    return 1;
  }
  int failed = 0;
  for (int i = 0; i < MODEL_NUM_OUTPUTS; ++i) {
    float *reference = malloc(sizeof(float) * outputSizes[i]);
    path(file, argv[3], outputNames[i]);
    if (readNpy(file, reference, outputSizes[i]))
      return 1;
    double worst = 0, scale = 0;
    for (int64_t j = 0; j < outputSizes[i]; ++j)
      scale = fabs(reference[j]) > scale ? fabs(reference[j]) : scale;
    int bad = 0;
    for (int64_t j = 0; j < outputSizes[i]; ++j) {
      double diff = fabs((double)outputs[i].data[j] - reference[j]);
      worst = diff > worst ? diff : worst;
      bad |= !(diff <= (ofScale ? 1e-4 * scale : 1e-5 + 1e-4 * fabs(reference[j])));
    }
    printf("output %s: %lld values, max abs diff %.3g: %s\n", outputNames[i],
           (long long)outputSizes[i], worst, bad ? "MISMATCH" : "ok");
    failed |= bad;
  }
  return failed;
}
