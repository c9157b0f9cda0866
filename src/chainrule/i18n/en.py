"""English messages (the reference catalogue: every key is here).

Templates are ``str.format`` strings; the numbers written in them must appear in every other
catalogue's message of the same key too (``tests/test_i18n.py`` checks both).
"""

MESSAGES: dict[str, str] = {
    # the backpropagation walk-through (chainrule.explain.backprop)
    "backprop.forward": "FORWARD PASS",
    "backprop.digit_names": "(each output is named by the class it scores: out_7 is the "
                            "output for the digit 7)",
    "backprop.error": "ERROR",
    "backprop.backward": "BACKWARD PASS (chain rule, output layer first)",
    "backprop.update": "UPDATE (gradient descent, lr = {lr}): w+ = w - lr * dE/dw",
    # chainrule example backprop: the worked 2-2-2 example
    "worked.intro": "The worked 2-2-2 example: inputs (0.05, 0.10), targets (0.01, 0.99), "
                    "sigmoid, E = sum 1/2 (target - out)^2, lr 0.5; biases are not trained.",
    "worked.after_one": "AFTER ONE STEP: E_total = {error} (was 0.298371109).",
    "worked.reproduces": "reproduces it exactly",
    "worked.gives": "gives {error}",
    "worked.tutorial_prints": "The tutorial prints {printed} here; running its variant "
                              "(examples/worked_example.py --as-published) {variant}. The "
                              "tutorial's published numbers propagate the hidden-layer error "
                              "through the output weights already updated in the same step; "
                              "correct backpropagation uses the weights of the forward pass, "
                              "which gives slightly different numbers.",
    # the biases of the worked example (chainrule.explain.biases)
    "biases.title": "BIASES (the tutorial keeps b1 = 0.35 and b2 = 0.6 fixed; here is what "
                    "training them would do)",
    "biases.factor": "A bias enters net = w * in + b with the factor 1, so dE/db = dE/dnet = "
                     "delta.",
    "biases.shared": "shared {shared} feeds {first} and {second}",
    "biases.shared_mark": "(shared)",
    "biases.update": "BIAS UPDATE (lr = {lr}): b+ = b - lr * dE/db",
    "biases.compare": "WHAT TRAINING THE BIASES CHANGES (E_total, 0.298371109 before the "
                      "first step)",
    "biases.after_1": "after 1 step",
    "biases.after": "after {steps} steps",
    "biases.variant.fixed": "biases fixed (the tutorial)",
    "biases.variant.per_neuron": "each neuron's bias trained (nn.Linear)",
    "biases.variant.shared": "b1 and b2 trained as shared biases (the tutorial's drawing)",
    "biases.less": "Training every bias too leaves {gain}x less error after {steps} steps: a "
                   "bias shifts a sigmoid sideways, one more way to move the outputs towards "
                   "their targets.",
    "biases.more": "Training every bias too leaves {gain}x more error after {steps} steps "
                   "here.",
    # figures (chainrule.viz.network, chainrule.viz.cycle)
    "figure.input": "input",
    "figure.hidden": "hidden {depth}",
    "figure.output": "output",
    "figure.neurons": "{count} neurons",
    "figure.softmax": "(shaded by softmax)",
    "figure.input_image": "the input image",
    "figure.legend": "thicker = larger |w| (scaled per layer)",
    "figure.positive": "positive weight",
    "figure.negative": "negative weight",
    "figure.target": "target {value}",
    "figure.title": "{shape} network: {total} parameters ({weights} weights + {biases} biases)",
    "figure.worked_title": "The worked 2-2-2 example: weights, net inputs, outputs, deltas and "
                           "errors (biases fixed)",
    "cycle.forward": "1 FORWARD: net = sum of w * in + b, out = activation(net)",
    "cycle.loss": "2 LOSS: E = sum of 1/2 (target - out)^2 = {error}",
    "cycle.loss_custom": "2 LOSS: E = {error}",
    "cycle.backward": "3 BACKWARD: delta = dE/dnet (chain rule, output first), "
                      "dE/dw = delta * in",
    "cycle.update": "4 UPDATE: w+ = w - {lr} * dE/dw; E {before} \u2192 {after}",
    "cycle.title": "One training step: forward \u2192 loss \u2192 backward \u2192 update "
                   "(clockwise from the top left), then forward again with the new weights\n"
                   "lines: blue positive, red negative weights, thicker = larger |w|",
    "cycle.done": "One training step of the worked 2-2-2 example: forward -> loss -> backward "
                  "-> update; E_total 0.298371109 -> {error} with the updated weights.",
    # the error split (chainrule.explain.error_split)
    "split.title": "SPLITTING THE OUTPUT ERRORS IN PROPORTION TO THE WEIGHTS",
    "split.errors": "output errors: {errors}",
    "split.weights_into": "weights into {output}: {terms}",
    "split.share_w11": "share of e1 assigned to w11 = {formula}",
    "split.tutorial": "  (the tutorial prints {published} here; {product} / {total} is {share})",
    "split.shares": "shares of {error}: {shares}",
    "split.hidden": "hidden errors (proportional split, recombined): {errors}",
    "split.plain": "DROPPING THE NORMALISATION: hidden errors = W_ho^T . e (what code does: "
                   "who.T @ e)",
    "split.true": "THE TRUE GRADIENT (chain rule) for the same weights with sigmoid outputs "
                  "and targets t = o + e",
    "split.outputs": "outputs o = {outputs}; E_total = {error}",
    "split.gradient": "dE/dout_h = W^T (delta), delta = -(t - o) * o (1 - o): {gradients}",
    "split.moral": "The heuristic points the same way (minus sign: the error is t - o), but "
                   "the true gradient is scaled by each output's slope o (1 - o) <= 1/4 and "
                   "not normalised.",
    # the worked convolution (chainrule.explain.convolution)
    "conv.title": "A 3x3 KERNEL SLID OVER A 5x5 IMAGE (stride 1, no padding: a 3x3 output)",
    "conv.image": "image x:",
    "conv.kernel": "kernel k:",
    "conv.rule": "y[i, j] = sum over a, b of x[i+a, j+b] * k[a, b]: the kernel laid on the "
                 "window whose top-left corner is (i, j), multiplied cell by cell and summed. "
                 "This kernel takes the window's right column from its left one: positive "
                 "where the image gets darker to the right. (Deep-learning libraries compute "
                 "this cross-correlation and call it convolution: the kernel is not flipped.)",
    "conv.output": "output y = conv2d(x, k):",
    "conv.loss": "LOSS L = 1/2 * sum (y - t)^2, asking for a zero map (target t = 0): L = "
                 "{loss}, and dL/dy = y - t:",
    "conv.kernel_gradient": "KERNEL GRADIENT. k[a, b] multiplies x[i+a, j+b] in every output "
                            "y[i, j], so dL/dk[a, b] = sum over i, j of x[i+a, j+b] * "
                            "dL/dy[i, j]: the image correlated with the output's gradient "
                            "(the 3x3 map dL/dy slid over the 5x5 image).",
    "conv.by_hand": "by hand:",
    "conv.autograd": "autograd ({grad}):",
    "conv.input_gradient": "INPUT GRADIENT. x[p, q] is read by every window that covers it, "
                           "so dL/dx is dL/dy padded with 2 zeros all round, correlated with "
                           "the kernel turned 180 degrees (the 'full' convolution).",
    "conv.agree": "by hand and autograd agree in every entry, to the last bit",
    "conv.differ": "by hand and autograd DIFFER: largest gap {kernel} (kernel), {input} "
                   "(input)",
    # chainrule example gradient-descent (chainrule.explain.pictures_descent)
    "descent.title": "GRADIENT DESCENT ({steps} steps at most; the gradient from backward())",
    "descent.surface_1d": "1-D f(x) = x^4 - 3x^2 + x: global minimum at x = -1.3008, local "
                          "at x = 1.1309",
    "descent.surface_2d": "2-D f(x, y) = (x^2 - 1)^2 / 2 + 0.3x + 5y^2: global minimum at "
                          "(-1.0679, 0), local at (0.9143, 0)",
    "descent.from": "from ({start}), lr {lr}",
    "descent.diverged": "diverged: |p| > 1000 after {steps} steps",
    "descent.none": "no minimum in {steps} steps: {how}, at ({end}), f = {loss}",
    "descent.bounces": "bounces across it",
    "descent.moving": "still moving",
    "descent.reached": "{which} minimum after {steps} steps, at ({end}), f = {loss}",
    "descent.global": "global",
    "descent.local": "local",
    "descent.moral": "Where a path ends is decided by the side of the hump it starts on; a "
                     "small learning rate crawls, a large one zig-zags across the steep y "
                     "direction of the valley, and past 2 / curvature (0.2 in y here) it flies "
                     "off.",
    # chainrule example vanishing-gradients (chainrule.explain.pictures_vanishing)
    "vanish.title": "VANISHING GRADIENTS (width {width}, 3-class spiral, PyTorch's default "
                    "init (relu+He: He's init), seed 0)",
    "vanish.ratio": "||dL/dW|| of the first layer / of the last layer, at initialisation:",
    "vanish.depth": "depth",
    "vanish.per_layer": "the {depth}-layer net, ||dL/dW|| per layer (1 = first), at "
                        "initialisation and after {steps} SGD steps (lr 0.1, full batch):",
    "vanish.init": "init    first {first}, last {last}: first/last {ratio}",
    "vanish.trained": "trained first {first}, last {last}: first/last {ratio}; training "
                      "accuracy {accuracy}",
    "vanish.worst": "At depth {depth} the first layer of the {name} net gets {ratio} of the "
                    "last layer's gradient: its weights barely move, and the layers near the "
                    "input learn last.",
    "vanish.he": "ReLU with He's init keeps {he} of it at depth {depth}; with PyTorch's "
                 "default init (variance 1/(3 fan_in), not 2/fan_in) ReLU keeps {relu}.",
    # chainrule example follow-one-digit (chainrule.explain.pictures_digit)
    "digit.title": "FOLLOW ONE DIGIT: training image {index} of mini-MNIST, a {label}",
    "digit.trained_1": "784-16-16-10 sigmoid net trained 1 epoch on {images} images (SGD lr "
                       "1.0, batch 32, seed 0): test accuracy {accuracy}",
    "digit.trained": "784-16-16-10 sigmoid net trained {count} epochs on {images} images (SGD "
                     "lr 1.0, batch 32, seed 0): test accuracy {accuracy}",
    "digit.activations": "hidden {depth} activations: {values}",
    "digit.lit": "  lit up (> 0.5): {count} of {total} (neurons {which})",
    "digit.none": "none",
    "digit.output": "output (softmax of the 10 scores), labelled by digit:",
    "digit.predicted": "  predicted {digit} ({p}); loss -log p_{label} = {loss}",
    "digit.wants": "what this training example wants, ranked: dL/dz_k = p_k - [k = {label}]; "
                   "a step moves each score by -lr * dL/dz_k",
    "digit.raise": "  raise {k}: dL/dz_{k} = {grad}",
    "digit.lower": "  lower {k}: dL/dz_{k} = {grad}",
    "digit.top": "the 10 largest of its 13,002 parameter gradients:",
    "digit.pixel": "  (hidden neuron {neuron}, pixel row {row}, column {column})",
    "digit.share": "share of the squared gradient norm per parameter tensor: {shares}",
    # chainrule example convergence (chainrule.explain.pictures_convergence)
    "converge.title": "CONVERGENCE SPEED: steps until the mean training loss of the last "
                      "{window} batches < {threshold}",
    "converge.setup": "784-64-64-64-10, SGD batch 64, {images} mini-MNIST images, the same "
                      "initial weights (seed 0, PyTorch's default init; relu+He: He's init); "
                      "'-' = not reached in {steps} steps",
    "converge.lr": "lr",
    "converge.best": "best",
    "converge.tanh_relu": "tanh needs {ratio}x the steps of ReLU (each at its best learning "
                          "rate: {tanh} and {relu}); the notes say about {claim}x, measured on "
                          "a 4-layer CNN on CIFAR-10, not this net.",
    "converge.tanh_he": "tanh needs {ratio}x the steps of ReLU with He's init (learning rates "
                        "{tanh} and {he}).",
    "converge.sigmoid": "sigmoid needs {ratio}x the steps of ReLU.",
    "converge.sigmoid_never": "sigmoid did not reach it in {steps} steps at any of these "
                              "learning rates.",
    # chainrule example linear-collapse, saturation, dead-relus, zigzag
    "act.collapse_title": "NO NON-LINEARITY: Linear(2, 16) -> Linear(16, 2) is one matrix",
    "act.collapse_trained": "trained with Adam (lr 0.01, {steps} full-batch steps) on 400 "
                            "circles points",
    "act.collapse_matrix": "W = W2 @ W1 = {W} (2x2, rank {rank}), b = W2 @ b1 + b2 = {b}",
    "act.collapse_difference": "the two layers and the single Linear(2, 2) with W, b: largest "
                               "output difference {difference} (float32 rounding)",
    "act.collapse_accuracy": "training accuracy: two layers, no activation {linear} (a "
                             "straight line through two rings); with tanh between them {tanh}",
    "act.saturation_title": "LARGE INITIAL WEIGHTS SATURATE SIGMOID UNITS (784-64-64-10, "
                            "{images} mini-MNIST images, one epoch of SGD lr 0.5, batch 32)",
    "act.saturation_meaning": "saturated = sigmoid output below {low} or above {high}, over "
                              "the 2,000 test images at initialisation",
    "act.layer_share": "layer {layer} {share}",
    "act.saturation_row": "  init {name} saturated: {share}; test accuracy after one epoch "
                          "{accuracy}",
    "act.dead_title": "DEAD RELUS: units that output 0 for all 2,000 test images "
                      "(784-64-64-10, one epoch of SGD, batch 32, on {images} mini-MNIST "
                      "images)",
    "act.dead_init": "  at initialisation: layer 1 {first} of 64, layer 2 {second} of 64",
    "act.dead_row": "  lr {lr} dead: layer 1 {first} of 64, layer 2 {second} of 64; test "
                    "accuracy {accuracy}",
    "act.zigzag_title": "SIGMOID'S OUTPUTS ARE NOT CENTRED ON 0: the zig-zag of the next "
                        "layer's weights",
    "act.zigzag_setup": "one neuron w . x learns w* = (1, -1), SGD lr 0.5, one example a "
                        "step, {steps} steps, inputs x = sigmoid(z) or tanh(z), z ~ N(0, 4)",
    "act.zigzag_row": "  {name} steps moving both weights the same way: {same}; {reached}",
    "act.zigzag_reached": "within 0.05 of w* after {steps} steps",
    "act.zigzag_never": "not within 0.05 of w* in {steps} steps",
    # chainrule example depth, overfitting, seed-spread (chainrule.explain.pictures_capacity)
    "capacity.depth_title": "DEEPER IS BETTER IN PRACTICE? hidden layers x ReLU units (He's "
                            "init), Adam lr 0.01, {steps} full-batch steps, 300 spiral points "
                            "(test: 300 others)",
    "capacity.depth_row": "  {label} ({parameters} parameters): train {train}, test {test}",
    "capacity.depth_compare": "  with as many parameters, one wide layer reaches {wide} where "
                              "four narrow ones reach {deep}: {verdict}",
    "capacity.deeper": "depth used them better",
    "capacity.wider": "width used them better",
    "capacity.same": "about the same (within 2 points)",
    "capacity.overfit_title": "OVERFITTING: 20 hidden tanh units, 60 noisy spiral points "
                              "(noise 0.5), Adam lr 0.02, {steps} full-batch steps; test: 600 "
                              "other points",
    "capacity.overfit_best": "  the test loss is lowest at step {step}: {test} (train {train})",
    "capacity.overfit_last": "  at step {step}: train loss {train}, test loss {test}, gap "
                             "{gap} (at the best step {best_gap})",
    "capacity.overfit_accuracy": "  accuracy: train {train}, test {test}",
    "capacity.seed_title": "SMALL NETS DEPEND ON THE SEED: 3 hidden tanh units on the spiral, "
                           "Adam lr 0.01, {steps} steps, {seeds} seeds (the same data and "
                           "training, other initial weights)",
    "capacity.seed_loss": "  final training loss: lowest {lowest} (seed {lowest_seed}), median "
                          "{median}, highest {highest} (seed {highest_seed})",
    "capacity.seed_accuracy": "  training accuracy from {low} to {high}",
    # chainrule example networks (chainrule.cli_example)
    "networks.title": "PARAMETERS: every weight and every bias (each neuron after the inputs "
                      "has one)",
    "networks.row": "  {name} weights {sums} = {weights}; biases {bias_sums} = {biases}; total "
                    "{total}",
    # chainrule example second-derivatives (chainrule.explain.second_derivatives)
    "second.title": "First and second derivatives by autograd (create_graph=True):",
    "second.row": "  {name} f' peaks at {slope} (x = {at}); |f''| peaks at {curvature} (|x| = "
                  "{curvature_at}); f'(4) = {slope4}",
    "second.saturation": "  sigmoid's slope is at most 1/4 and nearly 0 beyond |x| = 4 (f'(4) "
                         "= {slope4}): saturated units pass back almost no gradient",
    "second.race": "Newton's method vs gradient descent (lr {lr}) on L(w) = log(1 + e^w) - "
                   "0.8 w + 0.05 w^2 from w = -4:",
    "second.newton": "  Newton: {steps} steps to |L'(w)| < 1e-10 (w = {w})",
    "second.descent": "  gradient descent: {steps} steps (w = {w})",
}
