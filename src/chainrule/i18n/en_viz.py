"""Titles, axis labels and legends of chainrule.viz's figures (chainrule plot, draw_*).

English; see :mod:`chainrule.i18n` (the keys match the other language's part).
"""

MESSAGES: dict[str, str] = {
    # shared: a class, a data set's name
    "viz.class": "class {label}",
    "viz.set.train": "train",
    "viz.set.val": "validation",
    "viz.set.test": "test",
    # training.py: curves, compare, confusion matrix, misclassified
    "viz.curves.loss_title": "loss per epoch",
    "viz.curves.accuracy_title": "accuracy per epoch",
    "viz.curves.epoch": "epoch",
    "viz.curves.loss_label": "loss (mean over the samples)",
    "viz.curves.accuracy_label": "accuracy (%)",
    "viz.compare.line_style": "line style",
    "viz.compare.runs": "run (settings that differ)",
    "viz.compare.title": "{count} runs compared: loss and accuracy per epoch",
    "viz.confusion.samples": "samples",
    "viz.confusion.predicted": "predicted class",
    "viz.confusion.true": "true class",
    "viz.confusion.title": "confusion matrix\naccuracy {accuracy} of {count} samples",
    "viz.misclassified.tile": "predicted {predicted}, true {true}",
    "viz.misclassified.none": "no mistakes",
    "viz.misclassified.title": "misclassified: {wrong} of {total} images{shown}",
    "viz.misclassified.first": " (the first {count})",
    # weights.py: first-layer weights, activation histograms and their captions
    "viz.weights.value": "weight value",
    "viz.weights.outputs": "what each output (class) looks for",
    "viz.weights.hidden": "what each hidden unit looks for",
    "viz.weights.title": "first-layer weights, one {height}x{width} image per unit: {what}",
    "viz.saturation.sigmoid": "{share} saturated (< 0.01 or > 0.99)",
    "viz.saturation.tanh": "{share} saturated (|out| > 0.99)",
    "viz.saturation.relu_units": "{share} exactly 0; dead units: {dead} of {count}",
    "viz.saturation.relu_channels": "{share} exactly 0; dead channels: {dead} of {count}",
    "viz.saturation.leaky": "{share} negative ({where})",
    "viz.saturation.slope": "slope {slope}",
    "viz.saturation.small_slope": "the small slope",
    "viz.saturation.elu": "{share} saturated (< -0.99)",
    "viz.histograms.layer": "layer {name} ({kind})",
    "viz.histograms.value": "output value",
    "viz.histograms.count": "count (samples x units)",
    "viz.histograms.title": "activation values per layer, {count} samples",
    # gradients.py: activation functions, gradient flow
    "viz.activations.leaky": "leaky_relu (slope {slope}, as nn.LeakyReLU)",
    "viz.activations.max_slope": "max sigmoid' = 0.25",
    "viz.activations.function": "activation f(x)",
    "viz.activations.derivative": "derivative f'(x) (from autograd)",
    "viz.activations.x": "x (net input)",
    "viz.activations.title": "activation functions and their slopes",
    "viz.flow.layer": "layer (1 = next to the input)",
    "viz.flow.mean": "mean |dE/dW|",
    "viz.flow.per_layer": "gradient reaching each layer",
    "viz.flow.step": "training step",
    "viz.flow.over_training": "first and last layer over training",
    "viz.flow.run_layer": "{label}, layer {layer}",
    # boundary.py: decision boundaries, first-layer units over the plane
    "viz.boundary.default": "decision boundary",
    "viz.boundary.true_class": "true class (dots)",
    "viz.boundary.title": "{title} (accuracy {accuracy})\nshaded: predicted class",
    "viz.boundary.x1": "x1 (first input)",
    "viz.boundary.x2": "x2 (second input)",
    "viz.neurons.activation": "activation",
    "viz.neurons.net": "net input",
    "viz.neurons.title": "what each first-layer unit computes over the input plane. Colour: its "
                         "{what} (red high, blue low); black line: net input = 0; dots: the "
                         "data",
    # conv.py and run.py: filters and feature maps
    "viz.conv.filter": "filter {number}",
    "viz.conv.channels": ", mean over {count} input channels",
    "viz.conv.title": "first conv layer: {count} filters {height}x{width}{channels}",
    "viz.maps.input": "input",
    "viz.maps.title": "feature maps of one image, layer by layer (one map per channel)",
    "viz.maps.test_image": "feature maps of test image 0 (a {label}, predicted {predicted}), "
                           "layer by layer",
    # augment.py
    "viz.augment.original": "original",
    "viz.augment.version": "version {number}",
    "viz.augment.shift": "shift up to {pixels} px",
    "viz.augment.rotate": "rotate up to {degrees} deg",
    "viz.augment.elastic": "elastic (sigma {sigma}, alpha {alpha})",
    "viz.augment.separator": "; ",
    "viz.augment.title": "--augment {kinds}: {described}\neach training batch is distorted "
                         "anew; validation and test images never are",
    # pictures.py
    "viz.templates.title": "first-layer weights as colour images ({shown} of {count} units; "
                           "each scaled from its lowest weight, black, to its highest)",
    # graph_draw.py
    "viz.graph.scalar": "a scalar",
    "viz.graph.tensor": "a tensor of shape {shape}",
    "viz.graph.title": "Computational graph of {what}: {count} nodes, data flows up",
    # fonts.py: $CHAINRULE_CJK_FONT names no usable font
    "viz.no_cjk_font": "no font with Chinese characters was found, so the figures stay English "
                       "(set $CHAINRULE_CJK_FONT to a font file with Chinese characters, or "
                       "unset it to use the one chainrule ships)",
}
