"""Plots with matplotlib (a dependency of chainrule). Every function returns a Figure and
takes ``save=path`` to write a PNG; the Agg backend is used, so no display is needed.

Every function that draws words takes ``lang=`` ("en", "zh"; default ``$CHAINRULE_LANG``,
else the locale): titles, axis labels and legends come from the catalogue
(:mod:`chainrule.i18n`, the ``viz.*`` keys), Chinese drawn with a CJK font
(:mod:`chainrule.viz.fonts`)."""

from chainrule.viz.boundary import decision_boundary, neuron_boundaries
from chainrule.viz.conv import conv_filters, feature_map_grid, feature_maps
from chainrule.viz.gradients import (
    activation_derivatives,
    activation_functions,
    gradient_flow,
    record_gradient_flow,
)
from chainrule.viz.graph import Graph, graph_of, watch_grads
from chainrule.viz.graph_draw import draw_graph
from chainrule.viz.network import draw_network
from chainrule.viz.training import (
    compare_curves,
    confusion_matrix,
    misclassified,
    training_curves,
)
from chainrule.viz.weights import activation_histograms, first_layer_weights

__all__ = [
    "Graph", "activation_derivatives", "activation_functions", "activation_histograms",
    "compare_curves", "confusion_matrix", "conv_filters", "decision_boundary", "draw_graph",
    "draw_network",
    "feature_map_grid", "feature_maps", "first_layer_weights", "gradient_flow", "graph_of",
    "misclassified", "neuron_boundaries", "record_gradient_flow", "training_curves",
    "watch_grads",
]
