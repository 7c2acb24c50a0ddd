//===- Linear.cpp - Linear ------------------------------------------------===//

#include "tessel/nn/Layers.h"

#include "compiler/API/nn/Internal.h"

using namespace tessel;
using namespace tessel::nn;

Linear::Linear(const LinearOptions &o) : Module("Linear"), options_(o) {
  if (o.inFeatures() <= 0 || o.outFeatures() <= 0) {
    invalid("in_features and out_features must be positive, got " +
            std::to_string(o.inFeatures()) + " and " + std::to_string(o.outFeatures()));
    return;
  }
  Tensor weight = registerParameter("weight", newTensor({o.outFeatures(), o.inFeatures()}));
  Tensor bias = o.bias() ? registerParameter("bias", newTensor({o.outFeatures()})) : Tensor();
  defaultInit(weight, bias);
}

Value Linear::forward(Graph &graph, Value input) {
  std::vector<int64_t> shape = graph.shape(input);
  if (shape.empty() || shape.back() != options_.inFeatures()) {
    graph.fail("expects inputs with in_features = " + std::to_string(options_.inFeatures()) +
               " in their last dim, got shape " + shapeString(shape));
    return Value();
  }
  std::optional<Value> bias;
  if (options_.bias())
    bias = use(graph, "bias");
  return graph.linear(input, use(graph, "weight"), bias);
}

double Linear::flops(const std::vector<int64_t> &, const std::vector<int64_t> &output) const {
  return 2.0 * double(product(output)) * double(options_.inFeatures());
}
