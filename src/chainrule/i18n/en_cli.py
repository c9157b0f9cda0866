"""The command line's notices and error messages (chainrule.cli*).

English; see :mod:`chainrule.i18n` (the keys match the other language's part). Keys:
``cli.error*`` the lead-ins of the one-line errors, ``cli.arg.*`` argparse's errors and the
flag types' (matched against these templates, see :mod:`chainrule.cli_lang`), then one
group per command or concern.
"""

MESSAGES: dict[str, str] = {
    # one-line errors on stderr: the lead-in by kind (a library's English detail follows)
    "cli.error": "chainrule: error: {detail}",
    "cli.error.usage": "chainrule: error: {detail}",
    "cli.error.config": "chainrule: error: {detail}",
    "cli.error.data": "chainrule: error: {detail}",
    "cli.error.checkpoint": "chainrule: error: {detail}",
    "cli.error.state_dict": "chainrule: error: {detail}",
    "cli.error.memory_limit": "chainrule: error: {detail}",
    "cli.error.shape": "chainrule: error: {detail}",
    "cli.error.dtype": "chainrule: error: {detail}",
    "cli.error.os_bare": "chainrule: error: {reason}",
    "cli.error.memory": "chainrule: error: out of memory ({detail}); try a smaller model or "
                        "batch",
    "cli.error.allocation": "an allocation failed",
    "cli.usage": "chainrule: error: {message} (see {prog} --help)",
    "cli.interrupted": "chainrule: interrupted",
    "cli.stopped.interrupted": "chainrule: {detail}",
    "cli.stopped.diverged": "chainrule: {detail}",
    "cli.note": "note: {notice}",
    "cli.wrote": "wrote {path}",
    # an OS error's reason: the system's words, said in the other language where known
    "cli.errno.ENOENT": "{reason}",
    "cli.errno.EACCES": "{reason}",
    "cli.errno.EPERM": "{reason}",
    "cli.errno.EROFS": "{reason}",
    "cli.errno.ENOSPC": "{reason}",
    "cli.errno.EDQUOT": "{reason}",
    "cli.errno.EISDIR": "{reason}",
    "cli.errno.ENOTDIR": "{reason}",
    "cli.errno.EEXIST": "{reason}",
    "cli.errno.ENAMETOOLONG": "{reason}",
    "cli.errno.EIO": "{reason}",
    # argparse's errors (its English, Python 3.11 to 3.13) and the flag types'
    "cli.arg.required": "the following arguments are required: {names}",
    "cli.arg.unrecognized": "unrecognized arguments: {names}",
    "cli.arg.argument": "argument {name}: {inner}",
    "cli.arg.invalid_choice": "invalid choice: {value} (choose from {choices})",
    "cli.arg.invalid_value": "invalid {type} value: {value}",
    "cli.arg.expected_one": "expected one argument",
    "cli.arg.expected_some": "expected at least one argument",
    "cli.arg.ambiguous": "ambiguous option: {option} could match {matches}",
    "cli.arg.not_allowed": "not allowed with argument {other}",
    "cli.arg.ignored_explicit": "ignored explicit argument {value}",
    "cli.arg.one_required": "one of the arguments {names} is required",
    "cli.arg.positive_int": "expected a whole number >= 1, got {text}",
    "cli.arg.port": "expected a port number, got {text}",
    "cli.arg.port_range": "expected a port from 0 to 65535, got {port}",
    # what is found at a path
    "cli.path.nothing": "nothing",
    "cli.path.file": "a regular file",
    "cli.path.folder": "a folder",
    "cli.path.loop": "a symlink loop",
    "cli.path.no_checkpoint": "a folder without {file}",
    # run folders and checkpoints (cli_run)
    "cli.run.empty_name": "{flag}: expected a run folder or a checkpoint file, got an empty "
                          "name",
    "cli.run.not_a_run": "{name}: expected a run folder or a checkpoint file, found {found}",
    "cli.run.diverged_weights": "{path}: {key} holds {bad}: the run it came from diverged; use "
                                "an earlier checkpoint, or train a new run",
    "cli.run.config_not_table": "{path}: its config is not a table of settings",
    "cli.run.playground_export": "{path}: exported from the playground with a setup chainrule "
                                 "train cannot make (regression, CSV data, features beyond x "
                                 "and y, or a linear net); open it with: chainrule playground "
                                 "--load {run}",
    "cli.run.bad_saved_config": "{path}: the config saved in it is not valid ({detail})",
    "cli.run.no_biases": "{path}: no layer biases found: not a chainrule classifier",
    "cli.matplotlib": "plotting needs matplotlib, which did not import ({reason}); install it "
                      "with: pip install matplotlib",
    "cli.folder.run_folder": "run folder",
    "cli.folder.empty_name": "{flag}: expected a folder name, got an empty string",
    "cli.folder.cannot_create": "{flag} {path}: cannot create the folder ({reason})",
    "cli.folder.not_folder": "{flag} {path}: expected a folder, found {found}",
    "cli.folder.not_folder_at": "{flag} {path}: expected a folder, found {found} at {blocker}",
    "cli.folder.unwritable": "{flag} {path}: cannot write to the run folder ({reason})",
    "cli.folder.unwritable_resume": "{flag} {path}: cannot write to the run folder ({reason}); "
                                    "pass --out FOLDER to continue the run in another folder",
    "cli.folder.locked": "{flag} {path}: another chainrule process{holder} is writing to this "
                         "run folder; wait for it to finish, or choose another folder with "
                         "--out",
    "cli.folder.cannot_lock": "{flag} {path}: could not lock the run folder",
    "cli.folder.choose_writable": "{error}; choose a writable folder with --out",
    "cli.folder.cannot_create_run": "run folder {path}: cannot create it ({reason}); choose a "
                                    "writable folder with --out",
    "cli.folder.too_many": "run folder {base}: {count} runs of that name exist; choose a "
                           "folder with --out",
    "cli.folder.holds_run": "{flag} {out} already holds a run ({existing}); choose another "
                            "folder, or continue it with --resume {out}",
    "cli.folder.foreign_files": "{flag} {out} holds {stale} that no chainrule run left there "
                                "(no {lock}); choose an empty folder or another --out",
    "cli.folder.cannot_remove": "{flag} {out}: cannot remove the stale {name} of an earlier "
                                "run ({reason})",
    # --data-dir / --download for a data set that reads no files
    "cli.data.unread": "{given}: {subject} {kind} and reads no files; {fix}",
    "cli.data.subject_run": "{run} was trained on {name}, which is",
    "cli.data.subject_set": "--dataset {name} is",
    "cli.data.built_in": "built into chainrule",
    "cli.data.generated": "generated by chainrule",
    "cli.data.leave_out": "leave out {flag}",
    "cli.data.fix_train": "leave out {flag}, or pass --dataset mnist {given} to train on MNIST",
    "cli.data.fix_train_dir": "leave out {flag}, or pass --dataset mnist {given} to train on "
                              "MNIST from that folder",
    "cli.data.fix_eval": "leave out {flag}, or pass --dataset mnist {given} to evaluate it on "
                         "MNIST",
    "cli.data.fix_eval_dir": "leave out {flag}, or pass --dataset mnist {given} to evaluate it "
                             "on MNIST from that folder",
    # plot, eval, predict (cli)
    "cli.plot.out_one_run": "--out {out}: names the figure of several runs compared; one "
                            "run's figures are written into its folder",
    "cli.kind.points": "2-D points",
    "cli.kind.colour": "3x32x32 colour images",
    "cli.kind.grey": "28x28 images",
    "cli.eval.other_kind": "--dataset {name}: the model in {run} takes {kind} (trained on "
                           "{trained}); choose a data set of that kind",
    "cli.eval.more_classes": "--dataset {name} has {classes} classes, the model in {run} has "
                             "{outputs} outputs",
    "cli.eval.result": "{name} test set: accuracy {accuracy}, loss {loss}, {count} samples",
    "cli.eval.confusion": "confusion matrix (rows: true class, columns: predicted):",
    "cli.predict.not_images": "{run}: predict needs an image model of 28x28 grey images, this "
                              "one was trained on {dataset} ({kind}); chainrule eval tests it "
                              "on its test set",
    "cli.predict.sigmoid": "(a --loss {loss} run: each class has its own sigmoid probability; "
                           "they need not sum to 100%)",
    "cli.predict.bad_image": "{detail}",
    "cli.predict.more": "... {count} more images (use --limit)",
    # playground
    "cli.playground.needs_server": "the playground needs its web server ({name} is not "
                                   "installed): pip install 'chainrule[playground]'",
    "cli.playground.load": "{detail}",
    "cli.playground.in_use": "it is in use: choose another --port, or leave --port out for a "
                             "free one",
    "cli.playground.cannot_listen": "playground: cannot listen on {host}:{port} ({reason})",
    "cli.playground.serving": "chainrule playground on {url} (only this machine can open it); "
                              "Ctrl-C stops it",
    "cli.playground.stopped": "chainrule playground stopped",
    # example
    "cli.example.out_file": "--out {folder}: expected a folder for the figures, found a file",
    # train: the config file (cli_train)
    "cli.config.empty": "--config: expected a file name, got an empty string",
    "cli.config.not_toml": "--config {path}: expected a TOML file, found {found}",
    "cli.config.missing": "--config {path}: no such file",
    "cli.config.unreadable": "--config {path}: cannot read it ({reason})",
    "cli.config.too_large": "--config {path}: larger than {mib} MiB, not a config file",
    "cli.config.invalid_toml": "--config {path}: not valid TOML ({detail})",
    "cli.config.not_here": "--config {path}: {key} cannot be set in a config file; pass "
                           "--{key} on the command line",
    "cli.config.unknown": "--config {path}: unknown config keys: {keys} (known: {known})",
    "cli.config.out": "--config {path}: out: expected a folder name, got {value}",
    "cli.config.plot": "--config {path}: plot: expected true or false, got {value}",
    "cli.config.value": "--config {path}: {detail}",
    "cli.config.train_table": "--config {path}: train: expected a [train] table of settings, "
                              "got {value}",
    "cli.config.set_twice": "--config {path}: {name} is set {where}; set it once",
    "cli.config.both": "both {first} and {second}",
    "cli.config.twice": "twice {place}",
    "cli.config.top": "at the top level",
    "cli.config.in_train": "in [train]",
    # train: the run
    "cli.train.best_only": "--resume {resume}: this file holds only the best epoch's weights, "
                           "config and metrics, not the optimizer state and data order needed "
                           "to continue training; pass --resume {folder} to continue from the "
                           "last checkpoint, or evaluate it with chainrule eval {path}",
    "cli.train.no_cuda": "--device {device}: no CUDA device (install chainrule[gpu] on a "
                         "machine with an NVIDIA GPU)",
    "cli.train.mini_mnist": "notice: full MNIST not found (none of its files in {folders}; set "
                            "CHAINRULE_DATA, pass --data-dir, or --download); training on the "
                            "embedded mini-MNIST (10,000 images)",
    "cli.train.stale_removed": "notice: {path} held {names} of a run that stopped before its "
                               "first checkpoint; starting them over",
    "cli.train.no_saved_indices": "{path}: the run has --val-split {split} but no saved "
                                  "validation indices",
    "cli.train.bad_saved_indices": "{path}: {detail}",
    "cli.train.sets_val": "{train} training, {val} validation (held out of the {total} "
                          "training samples by --val-split) and {test} test samples",
    "cli.train.sets": "{train} training and {test} test samples (no --val-split: the "
                      "per-epoch columns and best.safetensors use the test set)",
    "cli.train.epoch": "{count} epoch",
    "cli.train.epochs": "{count} epochs",
    "cli.train.data": "data: {dataset}, {sets}; {optimizer} lr {lr}, batch {batch}, {epochs}, "
                      "seed {seed}, {dtype}",
    "cli.train.threads": "threads: {shown} {library} BLAS thread(s) ({how}), {cores} cores",
    "cli.train.threads_load": "threads: {shown} {library} BLAS thread(s) ({how}), {cores} "
                              "cores, load average {load}",
    "cli.train.threads_set": "set by --threads",
    "cli.train.threads_default": "the library's default",
    "cli.train.threads_unknown": "unknown",
    "cli.train.busy": "hint: this machine is busy (load average {load} on {cores} cores), so "
                      "{threads} BLAS threads would wait on each other and on the other "
                      "processes; --threads 1 is often several times faster then",
    "cli.train.resumed": "resumed from {path} at epoch {epoch}, step {step}",
    "cli.train.already_trained": "notice: the run has already trained {epoch} of --epochs "
                                 "{epochs}: nothing to train, only the test set is evaluated; "
                                 "pass --epochs {next} or more to train on",
    "cli.train.nothing_kept": "none (no epoch trained: nothing kept)",
    "cli.train.best": "best model (epoch {epoch}, validation accuracy {chosen}): test accuracy "
                      "{accuracy} | test loss {loss}",
    "cli.train.result": "test accuracy {accuracy} (last model, epoch {epoch}) | test loss "
                        "{loss} | time {time}s | checkpoint {where}",
    # info
    "cli.info.checkpoint": "checkpoint: {path} (epoch {epoch}, step {step}, best epoch {best})",
    "cli.info.config": "config:",
    "cli.info.metrics_unreadable": "notice: cannot read {folder}/metrics.jsonl ({detail}); "
                                   "showing the metrics saved in the checkpoint",
    "cli.info.validation": "validation: {held} of the {total} training samples held out "
                           "(--val-split {split}, drawn from seed {seed}); trained on the "
                           "other {rest}",
    "cli.info.per_epoch": "per-epoch evaluation: {note}",
    "cli.info.note_val": "the val columns are the validation images held out by --val-split, "
                         "on which best.safetensors was chosen",
    "cli.info.note_test": "the test columns are the test set, evaluated every epoch (no "
                          "--val-split), and best.safetensors was chosen on it",
    "cli.info.note_test_old": "the test columns are the test set, evaluated every epoch (no "
                              "--val-split), and best.safetensors was chosen on it; this run "
                              "is older than --val-split and saved them as val_*",
    "cli.info.metrics": "metrics:",
    "cli.info.tested": "test set, evaluated once after training:",
    "cli.info.model": "  {name} model (epoch {epoch}{how}): accuracy {accuracy}, loss {loss}, "
                      "{count} samples",
    "cli.info.best": "best",
    "cli.info.last": "last",
    "cli.info.chosen_by": ", chosen by {column} {value}",
    "cli.info.val_accuracy": "validation accuracy",
    "cli.info.val_loss": "validation loss",
    "cli.info.environment": "environment:",
    # --help: argparse's headings, the top-level description and examples, each command's
    # summary (each option's help stays English)
    "cli.help.usage": "usage: ",
    "cli.help.options": "\noptions:\n",
    "cli.help.positional": "\npositional arguments:\n",
    "cli.help.commands": "\ncommands:\n",
    "cli.help.help": "show this help message and exit",
    "cli.help.version": "show program's version number and exit",
    "cli.help.lang": "language of the notices and error messages: en or zh (default: "
                     "$CHAINRULE_LANG, else the locale, LC_ALL, LC_MESSAGES or LANG, else en)",
    "cli.help.description": "Train, evaluate and look inside neural networks written with "
                            "PyTorch's API on NumPy.",
    "cli.help.epilog": """examples:
  chainrule train                      the tutorials' 784-16-16-10 sigmoid net on MNIST
  chainrule train --dataset spiral --hidden 20 --activation tanh --epochs 40 --plot
  chainrule eval runs/NAME             test accuracy, loss and confusion matrix
  chainrule plot runs/NAME             curves, confusion matrix, weights (PNG files)
  chainrule example backprop           the worked 2-2-2 example, every number
  chainrule playground                 train a network in the browser and watch it learn

'chainrule COMMAND --help' lists a command's flags.""",
    "cli.help.train": "train a network (default: the tutorials' MNIST MLP)",
    "cli.help.eval": "evaluate a trained run on its test set",
    "cli.help.predict": "top-3 classes for images (PNG, JPEG, PGM, BMP, GIF, TIFF, WebP or "
                        "IDX)",
    "cli.help.info": "config, metrics and environment of a run",
    "cli.help.bench": "time one epoch of the tutorials' MNIST net: chainrule (eager, "
                      "captured) vs PyTorch vs plain NumPy",
    "cli.help.plot": "write a run's standard figures as PNGs next to it, or overlay several "
                     "runs' curves in one figure",
    "cli.help.example": "walk through a tutorial calculation or idea with real numbers and "
                        "pictures",
    "cli.help.playground": "train a small network in the browser and watch it learn (local web "
                           "page; needs the 'playground' extra)",
    "cli.help.launch": "run a chainrule command on N processes with mpiexec (data-parallel "
                       "training over MPI; needs the 'mpi' extra); names the rank when one dies",
    "cli.help.eval.run": "run folder or checkpoint file",
    "cli.help.eval.dataset": "evaluate on another data set of the same shape",
    "cli.help.eval.data_dir": "folder with the data set's files, read as train --data-dir "
                              "reads it (default: the run's own --data-dir, else "
                              "$CHAINRULE_DATA, then the cache)",
    "cli.help.predict.run": "run folder or checkpoint file",
    "cli.help.predict.images": "picture files (scaled to 28x28 grey, inverted when the "
                               "background is light) or IDX files of images",
    "cli.help.predict.limit": "images to show from an IDX file (at least 1)",
    "cli.help.info.run": "run folder or checkpoint file",
    "cli.help.bench.full": "all three configurations, median of 3 processes (minutes)",
    "cli.help.plot.run": "run folder or checkpoint file; two or more: their loss and accuracy "
                         "curves in one figure, the legend naming each run and the settings "
                         "that differ",
    "cli.help.plot.out": "where the figure of several runs goes (default: compare.png in the "
                         "folder holding the runs)",
    "cli.help.playground.port": "port on 127.0.0.1 (default: a free one)",
    "cli.help.playground.no_browser": "print the URL without opening a browser",
    "cli.help.playground.load": "open a trained 2-D run: a run folder of chainrule train "
                                "--dataset circles|xor|gaussians|spiral|moons, or a playground "
                                "export",
    "cli.help.playground.export_dir": "where the page's Export button writes run folders "
                                      "(default runs)",
    # train's flags and the epilog of its --help ({sets}, ... : the lists of recipe)
    "cli.help.train.epilog": (
        "A resumed run keeps every setting it was trained with; only {resumable} (and "
        "--out, --plot) may change,\nand --epochs not when a step, cosine, warmup or onecycle "
        "schedule is laid out over them.\nThe model's memory (parameters, gradients, optimizer "
        "state, a batch's activations) is\nestimated before it is built and refused over 4 GiB; "
        "set {memory_env}=SIZE (e.g. 16G) to\nallow more."),
    "cli.help.train.model": "mlp (default: Flatten and the --hidden layers) | lenet (LeNet-5: "
                            "conv 6@5x5 pad 2, max-pool, conv 16@5x5, max-pool, 120, 84, 10; "
                            "61,706 parameters) | cnn (two conv 3x3 blocks with BatchNorm, ReLU "
                            "and max-pool, dropout 0.25, linear). lenet and cnn default to "
                            "--activation relu --optimizer momentum --lr 0.05 --batch-size 64 "
                            "--schedule cosine and take images only (28x28, or CIFAR-10's 3x32x32)",
    "cli.help.train.dataset": "{sets} (default: mnist when found or asked for with --data-dir or "
                              "--download, else the embedded mini-MNIST)",
    "cli.help.train.data_dir": "folder with the data set's files: IDX files, or CIFAR-10's .bin "
                               "files or cifar-10-binary.tar.gz (read from it, or its subfolder "
                               "named after the data set, and nowhere else)",
    "cli.help.train.download": "download the data set (mnist without --dataset) into --data-dir "
                               "or the cache when none of its files is there",
    "cli.help.train.hidden": "hidden layer sizes of --model mlp, e.g. 16,16 (default)",
    "cli.help.train.activation": "{activations} (default sigmoid)",
    "cli.help.train.loss": "cross_entropy (default: softmax, then -ln p of the true class, mean "
                           "over the batch) | mse (network.py's quadratic cost: sigmoid outputs a "
                           "against the one-hot target y, 1/2 * sum over the classes of (a - "
                           "y)^2, mean over the batch) | bce (network2.py's cross-entropy cost: "
                           "sigmoid outputs, -[y ln a + (1 - y) ln(1 - a)] summed over the "
                           "classes, mean over the batch) | multi_margin (multiclass hinge). mse "
                           "and bce runs give each class its own sigmoid probability in eval and "
                           "predict",
    "cli.help.train.optimizer": "{optimizers} (default sgd)",
    "cli.help.train.lr": "learning rate (default 0.5 for sgd, 0.01 momentum, 0.001 adam)",
    "cli.help.train.momentum": "momentum for momentum/nesterov (default 0.9)",
    "cli.help.train.weight_decay": "L2 weight decay wd: wd * w is added to every step's gradient "
                                   "(sgd: w -= lr * (grad + wd * w)); adamw subtracts lr * wd * w "
                                   "apart from the gradient. It is network2.py's lambda/n: lambda "
                                   "5.0 with n = 50,000 training images is --weight-decay 1e-4. "
                                   "Biases decay too unless --no-bias-decay (default 0)",
    "cli.help.train.no_bias_decay": "decay only the weights: biases and BatchNorm/LayerNorm "
                                    "parameters get weight decay 0 (a second optimizer parameter "
                                    "group), as network2.py does",
    "cli.help.train.dropout": "dropout probability after each hidden layer (default 0)",
    "cli.help.train.augment": "distort every training batch anew (image data sets; validation and "
                              "test images never): a comma list of shift (whole pixels, up to 2 "
                              "each way), rotate (up to 15 degrees), elastic (Simard et al. 2003: "
                              "smoothed random displacements, sigma 4, alpha 34); drawn from "
                              "--seed, so --resume repeats them (default none)",
    "cli.help.train.init": "how weights start (gain g from --activation: tanh 5/3, relu and "
                           "leaky_relu about sqrt(2), others 1): default (PyTorch's: weights and "
                           "biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))) | xavier_uniform (U(-a, "
                           "a), a = g * sqrt(6 / (fan_in + fan_out))) | xavier_normal (N(0, g^2 * "
                           "2 / (fan_in + fan_out))) | kaiming_uniform (U(-b, b), b = g * sqrt(3 "
                           "/ fan_in)) | kaiming_normal (N(0, g^2 / fan_in)) | orthogonal "
                           "(orthogonal matrix times g) | normal (N(0, S^2) for the weights AND "
                           "the biases, S = --init-std, default 1: network.py's N(0, 1)) | "
                           "normal_fan_in (weights N(0, 1 / fan_in), biases N(0, 1): "
                           "network2.py's default_weight_initializer). All but default, normal "
                           "and normal_fan_in set the biases to 0",
    "cli.help.train.init_std": "the standard deviation S of --init normal (default 1.0); only "
                               "with --init normal",
    "cli.help.train.schedule": "{schedules} (default none)",
    "cli.help.train.batch_size": "mini-batch size (default 32)",
    "cli.help.train.epochs": "number of epochs (default 5)",
    "cli.help.train.seed": "random seed (default 0)",
    "cli.help.train.val_split": "hold out N training images as a validation set: a count "
                                "(--val-split 10000: Nielsen's 50,000 training / 10,000 "
                                "validation) or a fraction in (0, 1); drawn from --seed and saved "
                                "with the run, so --resume keeps it. The per-epoch val columns "
                                "and best.safetensors then use it, and the test set is evaluated "
                                "once after training, for the best and for the last model. "
                                "Default: none, and then the per-epoch columns (labelled test) "
                                "and best.safetensors use the test set",
    "cli.help.train.dtype": "float32 (default) | float64: the dtype of the model and the data, "
                            "saved with the run (eval, predict and --resume use it); float64 "
                            "takes about twice the memory and time",
    "cli.help.train.threads": "BLAS (and OpenMP) threads for NumPy's matrix products (default: "
                              "the library's, usually one per core); on a busy machine --threads "
                              "1 is often several times faster. The run's header and chainrule "
                              "info show the count; it may change on --resume",
    "cli.help.train.device": "cpu (default) or cuda",
    "cli.help.train.out": "run folder (default runs/<dataset>-<YYYYmmdd-HHMMSS>, with -2, -3, ... "
                          "when taken); refused if it holds another run's checkpoint",
    "cli.help.train.resume": "continue a run from its folder (or its checkpoint.safetensors); "
                             "only {resumable} may differ from the run's settings",
    "cli.help.train.config": "TOML file with any of these settings but --resume and --config; "
                             "flags override it",
    "cli.help.train.plot": "write the standard figures next to the run (PNG: curves, confusion "
                           "matrix, weights, ...)",
}
