"""The ``chainrule train`` command's flags and their help (:mod:`chainrule.cli_train` runs
the command). Every flag defaults to None, so that an unset flag does not override the
config file or a resumed run's settings.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_train_flags(parser)
>>> vars(parser.parse_args(["--epochs", "3"]))["epochs"], parser.parse_args([]).hidden
('3', None)
"""

from __future__ import annotations

import argparse

from chainrule.limits import ENV as MEMORY_ENV
from chainrule.train import recipe

TRAIN_EPILOG = f"""A resumed run keeps every setting it was trained with; only {", ".join(
    "--" + k.replace("_", "-") for k in recipe.RESUMABLE)} (and --out, --plot) may change,
and --epochs not when a step, cosine, warmup or onecycle schedule is laid out over them.
The model's memory (parameters, gradients, optimizer state, a batch's activations) is
estimated before it is built and refused over 4 GiB; set {MEMORY_ENV}=SIZE (e.g. 16G) to
allow more."""


def add_train_flags(parser: argparse.ArgumentParser) -> None:
    """The train command's flags (all default to None: unset flags do not override)."""
    parser.epilog = TRAIN_EPILOG
    add = parser.add_argument
    add("--model", help="mlp (default: Flatten and the --hidden layers) | lenet (LeNet-5: conv "
        "6@5x5 pad 2, max-pool, conv 16@5x5, max-pool, 120, 84, 10; 61,706 parameters) | cnn "
        "(two conv 3x3 blocks with BatchNorm, ReLU and max-pool, dropout 0.25, linear). lenet "
        "and cnn default to --activation relu --optimizer momentum --lr 0.05 --batch-size 64 "
        "--schedule cosine and take images only (28x28, or CIFAR-10's 3x32x32)")
    add("--dataset", help=" | ".join(recipe.IMAGE_SETS + recipe.TOY_SETS) + " (default: mnist "
        "when found or asked for with --data-dir or --download, else the embedded mini-MNIST)")
    add("--data-dir", dest="data_dir", help="folder with the data set's files: IDX files, or "
        "CIFAR-10's .bin files or cifar-10-binary.tar.gz (read from it, or its subfolder "
        "named after the data set, and nowhere else)")
    add("--download", action="store_true", default=None, help="download the data set (mnist "
        "without --dataset) into --data-dir or the cache when none of its files is there")
    add("--hidden", help="hidden layer sizes of --model mlp, e.g. 16,16 (default)")
    add("--activation", help=" | ".join(recipe.ACTIVATIONS) + " (default sigmoid)")
    add("--loss", help="cross_entropy (default: softmax, then -ln p of the true class, mean "
        "over the batch) | mse (network.py's quadratic cost: sigmoid outputs a against the "
        "one-hot target y, 1/2 * sum over the classes of (a - y)^2, mean over the batch) | "
        "bce (network2.py's cross-entropy cost: sigmoid outputs, -[y ln a + (1 - y) ln(1 - a)] "
        "summed over the classes, mean over the batch) | multi_margin (multiclass hinge). "
        "mse and bce runs give each class its own sigmoid probability in eval and predict")
    add("--optimizer", help=" | ".join(recipe.OPTIMIZERS) + " (default sgd)")
    add("--lr", help="learning rate (default 0.5 for sgd, 0.01 momentum, 0.001 adam)")
    add("--momentum", help="momentum for momentum/nesterov (default 0.9)")
    add("--weight-decay", dest="weight_decay", help="L2 weight decay wd: wd * w is added to "
        "every step's gradient (sgd: w -= lr * (grad + wd * w)); adamw subtracts lr * wd * w "
        "apart from the gradient. It is network2.py's lambda/n: lambda 5.0 with n = 50,000 "
        "training images is --weight-decay 1e-4. Biases decay too unless --no-bias-decay "
        "(default 0)")
    add("--no-bias-decay", dest="no_bias_decay", action="store_true", default=None,
        help="decay only the weights: biases and BatchNorm/LayerNorm parameters get weight "
        "decay 0 (a second optimizer parameter group), as network2.py does")
    add("--dropout", help="dropout probability after each hidden layer (default 0)")
    add("--augment", help="distort every training batch anew (image data sets; validation "
        "and test images never): a comma list of shift (whole pixels, up to 2 each way), "
        "rotate (up to 15 degrees), elastic (Simard et al. 2003: smoothed random "
        "displacements, sigma 4, alpha 34); drawn from --seed, so --resume repeats them "
        "(default none)")
    add("--init", help="how weights start (gain g from --activation: tanh 5/3, relu and "
        "leaky_relu about sqrt(2), others 1): default (PyTorch's: weights and biases "
        "U(-1/sqrt(fan_in), 1/sqrt(fan_in))) | xavier_uniform (U(-a, a), a = g * "
        "sqrt(6 / (fan_in + fan_out))) | xavier_normal (N(0, g^2 * 2 / (fan_in + fan_out))) "
        "| kaiming_uniform (U(-b, b), b = g * sqrt(3 / fan_in)) | kaiming_normal (N(0, g^2 / "
        "fan_in)) | orthogonal (orthogonal matrix times g) | normal (N(0, S^2) for the weights "
        "AND the biases, S = --init-std, default 1: network.py's N(0, 1)) | normal_fan_in "
        "(weights N(0, 1 / fan_in), biases N(0, 1): network2.py's default_weight_initializer)."
        " All but default, normal and normal_fan_in set the biases to 0")
    add("--init-std", dest="init_std", help="the standard deviation S of --init normal "
        "(default 1.0); only with --init normal")
    add("--schedule", help=" | ".join(recipe.SCHEDULES) + " (default none)")
    add("--batch-size", dest="batch_size", help="mini-batch size (default 32)")
    add("--epochs", help="number of epochs (default 5)")
    add("--seed", help="random seed (default 0)")
    add("--val-split", dest="val_split", help="hold out N training images as a validation "
        "set: a count (--val-split 10000: Nielsen's 50,000 training / 10,000 validation) or a "
        "fraction in (0, 1); drawn from --seed and saved with the run, so --resume keeps it. "
        "The per-epoch val columns and best.safetensors then use it, and the test set is "
        "evaluated once after training, for the best and for the last model. Default: none, "
        "and then the per-epoch columns (labelled test) and best.safetensors use the test set")
    add("--dtype", help="float32 (default) | float64: the dtype of the model and the data, "
        "saved with the run (eval, predict and --resume use it); float64 takes about twice "
        "the memory and time")
    add("--threads", help="BLAS (and OpenMP) threads for NumPy's matrix products (default: "
        "the library's, usually one per core); on a busy machine --threads 1 is often "
        "several times faster. The run's header and chainrule info show the count; it may "
        "change on --resume")
    add("--device", help="cpu (default) or cuda")
    add("--out", help="run folder (default runs/<dataset>-<YYYYmmdd-HHMMSS>, with -2, -3, "
        "... when taken); refused if it holds another run's checkpoint")
    add("--resume", help="continue a run from its folder (or its checkpoint.safetensors); "
        "only " + ", ".join("--" + k.replace("_", "-") for k in recipe.RESUMABLE)
        + " may differ from the run's settings")
    add("--config", help="TOML file with any of these settings but --resume and --config; "
        "flags override it")
    add("--plot", action="store_true", default=None, help="write the standard figures next "
        "to the run (PNG: curves, confusion matrix, weights, ...)")
