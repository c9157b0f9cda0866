"""Figure titles, axis labels and legends of the picture examples (chainrule.explain.pictures_*).

English; see :mod:`chainrule.i18n` (the keys match the other language's part).
"""

MESSAGES: dict[str, str] = {
    "fig.lr": "lr {lr}",
    "fig.descent.title": "Gradient descent: several starts reach the global or a local minimum; "
                         "the learning rate sets the path",
    "fig.descent.starts": "{dims}-D, lr {lr}: the start decides which minimum",
    "fig.descent.rates": "{dims}-D, from {start}: the learning rate",
    "fig.descent.start": "start {start}: {end}",
    "fig.descent.rate": "lr {lr}: {end}",
    "fig.descent.step": "step",
    "fig.descent.global": "global minimum",
    "fig.descent.local": "local minimum",
    "fig.descent.diverged": "diverged",
    "fig.descent.bounces": "bounces, no minimum",
    "fig.descent.moving": "no minimum yet",
    "fig.vanish.title": "Vanishing gradients: the gradient reaching the first layers shrinks "
                        "with depth (sigmoid most)",
    "fig.vanish.ratio": "first layer's gradient / last layer's, at init",
    "fig.vanish.depth": "depth (Linear layers)",
    "fig.vanish.at_init": "{depth} layers: ||dL/dW|| per layer at init",
    "fig.vanish.trained": "{depth} layers: after {steps} SGD steps",
    "fig.vanish.accuracy": "{name} (train accuracy {accuracy})",
    "fig.vanish.layer": "layer (1 = next to the input)",
    "fig.digit.title": "Follow one digit through 784-16-16-10 (test accuracy {accuracy})",
    "fig.digit.image": "training image {index}: a {label}",
    "fig.digit.hidden": "hidden {depth}: sigmoid activations (orange > 0.5)",
    "fig.digit.neuron": "neuron",
    "fig.digit.output": "output: softmax probability per digit",
    "fig.digit.digit": "digit",
    "fig.digit.digit_k": "digit {k}",
    "fig.digit.wants": "what it wants: -dL/dz, ranked\n(blue raise, red lower)",
    "fig.digit.neuron_k": "neuron {k}",
    "fig.digit.maps": "first layer: -dL/dW for each hidden neuron as a 28x28 map (blue: a step "
                      "raises these weights, red: lowers them; each map is -delta_k times the "
                      "image)",
    "fig.digit.network": "784-16-16-10 sigmoid net: the activations of training image {index} "
                         "(a {label}); darker = more active",
    "fig.converge.title": "Convergence speed of sigmoid, tanh and ReLU, measured "
                          "(784-64-64-64-10, mini-MNIST, same initial weights)",
    "fig.converge.reached": "{name}, lr {lr}: {steps} steps",
    "fig.converge.not_reached": "{name}, lr {lr}: not reached",
    "fig.converge.not_reached_bar": "not\nreached",
    "fig.converge.step": "SGD step",
    "fig.converge.loss": "training loss (running mean)",
    "fig.converge.curves": "each activation at its best learning rate",
    "fig.converge.steps": "steps to loss < {threshold}",
    "fig.converge.bars": "steps per learning rate (lower is faster)",
    "fig.collapse.title": "Without a non-linearity two layers collapse into one linear map",
    "fig.collapse.linear": "Linear-Linear = one 2x2 matrix",
    "fig.saturation.title": "Large initial weights push sigmoid units to 0 or 1, where they "
                            "barely learn",
    "fig.saturation.panel": "init {name}: sigmoid outputs at init;\ntest accuracy after one "
                            "epoch {accuracy}",
    "fig.saturation.layer": "layer {layer}: {share} saturated",
    "fig.saturation.output": "sigmoid output",
    "fig.saturation.count": "count (units x test images)",
    "fig.dead.title": "Dead ReLUs after one epoch, per learning rate",
    "fig.dead.layer": "hidden layer {layer}",
    "fig.dead.accuracy": "test acc.\n{accuracy}",
    "fig.dead.units": "dead units (of 64)",
    "fig.zigzag.title": "Non-zero-centred inputs (sigmoid outputs) make every gradient step "
                        "move all weights the same way: the first {steps} steps",
    "fig.zigzag.panel": "inputs {name}: {same} of steps move w1 and w2 the same way",
    "fig.zigzag.sigmoid": "sigmoid (all > 0)",
    "fig.zigzag.tanh": "tanh (centred)",
    "fig.depth.title": "Depth on the spiral: hidden layers x ReLU units, the same {steps} Adam "
                       "steps (test points)",
    "fig.depth.panel": "{label} ({parameters} parameters), test set",
    "fig.overfit.title": "Overfitting: 20 hidden units on 60 noisy points",
    "fig.overfit.train": "training loss (60 points)",
    "fig.overfit.test": "test loss (600 points)",
    "fig.overfit.lowest": "lowest test loss",
    "fig.overfit.step": "Adam step",
    "fig.overfit.loss": "cross-entropy",
    "fig.overfit.gap": "the gap grows: it learns the noise of 60 points",
    "fig.overfit.boundary": "20 units fit the 60 training points",
    "fig.seed.title": "3 tanh units, {seeds} seeds: the same training ends at losses from "
                      "{low} to {high}",
    "fig.seed.accuracy": "training accuracy",
    "fig.seed.median": "median {median}",
    "fig.seed.seed": "seed",
    "fig.seed.loss": "final training loss",
}
