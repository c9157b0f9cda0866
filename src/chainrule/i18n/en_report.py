"""What the commands report while they run: the training's epoch lines and bar, the model
summary ``chainrule train`` prints first, ``chainrule bench``'s table, ``chainrule
launch``'s messages and the line of ``chainrule plot`` comparing runs.

English; see :mod:`chainrule.i18n` (the keys match the other language's part). The library
functions that print these take the language as a parameter (English by default), so their
English output is what it always was.
"""

MESSAGES: dict[str, str] = {
    # the per-epoch line and the live bar (chainrule.train.progress)
    "progress.epoch": "epoch {epoch}/{epochs}",
    "progress.set.train": "train",
    "progress.set.val": "val",
    "progress.set.test": "test",
    "progress.loss_acc": "{name} loss {loss} acc {accuracy}",
    "progress.loss": "{name} loss {loss}",
    "progress.acc": "{name} acc {accuracy}",
    "progress.lr": "lr {lr}",
    "progress.speed": "{speed} samples/s",
    "progress.seconds": "{seconds}s",
    "progress.bar.loss": "loss",
    "progress.bar.acc": "acc",
    "progress.bar.speed": "samples_s",
    "progress.bar.unit": "it",
    # the trainer's lines about a checkpoint held back while the loss runs high
    "progress.held_back": "epoch {epoch}: checkpoint held back ({kept}): {above} of the last "
                          "{recent} batch losses are above {threshold} (the first batch's loss "
                          "was {reference}; more than {half} stop the run); a calmer epoch's "
                          "checkpoint is written, and always the last epoch's",
    "progress.kept_last": "the last one, of epoch {epoch}, is kept",
    "progress.none_yet": "no checkpoint is written yet",
    "progress.held_written": "epoch {epoch}: checkpoint written, held back above: training "
                             "stopped here",
    # nn.summary's table
    "summary.layer": "Layer (type)",
    "summary.shape": "Output shape",
    "summary.params": "Params",
    "summary.total": "Total params: {count}",
    "summary.trainable": "Trainable params: {count}",
    # chainrule bench
    "bench.heading": "one epoch ({images} images) after a warm-up epoch, median of {repeats} "
                     "fresh process(es); {cores} cores, {threads} BLAS thread(s){torch}; "
                     "{libraries}",
    "bench.torch_pinned": ", PyTorch pinned to as many",
    "bench.no_torch": "PyTorch is not installed (pip install torch): its rows and the /torch "
                      "column are left out",
    "bench.config": "config",
    "bench.framework": "framework",
    "bench.seconds": "seconds",
    "bench.accuracy": "accuracy",
    "bench.overhead": "overhead us/step",
    "bench.peak": "peak RSS MiB",
    "bench.gemm_only": "(gemm only)",
    "bench.agree": "accuracies agree within {spread}",
    # chainrule launch
    "launch.arg.ranks": "{text}: expected a whole number of at least 1",
    "launch.no_job": "launch: name the command every rank runs, e.g. chainrule launch -n 2 "
                     "train --epochs 3",
    "launch.no_mpi4py": "launch: mpi4py is not installed: pip install 'chainrule[mpi]' (mpi4py "
                        "and the mpich wheel: no system MPI needed)",
    "launch.no_mpiexec": "launch: no mpiexec found beside this Python or on PATH: pip install "
                         "'chainrule[mpi]', or name one with --mpiexec PATH",
    "launch.cannot_run": "launch: cannot run {mpiexec}: no such file",
    "launch.died": "chainrule launch: {dead}. {hint}",
    "launch.resume": "The last checkpoint stays intact: resume with --resume {where}",
    "launch.run_folder": "RUN (the run's folder)",
    "launch.rank": "rank {rank} (pid {pid} on {host})",
    "launch.unknown_rank": "the process with pid {pid} on {host} (its rank is unknown: the run "
                           "had not printed its ranks yet)",
    "launch.ended": "{who} ended; mpiexec ended the other ranks",
    "launch.killed": "{who} was killed by signal {number} ({name}); mpiexec ended the other "
                     "ranks",
    "launch.exited": "{who} exited with code {number}; mpiexec ended the other ranks",
    # chainrule plot RUN1 RUN2 ...
    "plot.compared": "wrote {path} ({count} runs: {labels})",
    "plot.no_metrics": "{run}: the run has no per-epoch metrics to plot (it trained no epoch)",
    "plot.bad_row": "{run}: a metrics row is not a table with an epoch number: {row}",
    "plot.out_file": "--out {out}: expected a file name for the figure, found {found}",
    "plot.empty_name": "an empty name",
}
