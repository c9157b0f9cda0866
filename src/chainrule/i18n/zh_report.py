"""What the commands report while they run: the training's epoch lines and bar, the model
summary, ``chainrule bench``'s table, ``chainrule launch``'s messages and the line of
``chainrule plot`` comparing runs.

Chinese; see :mod:`chainrule.i18n` (the keys match the other language's part). The terms
are the tutorials': 轮 (epoch), 训练损失, 准确率, 验证集, 测试集, 学习率, 样本/秒, 参数, 层.
Framework names, flags, signal names and numbers stay as they are.
"""

MESSAGES: dict[str, str] = {
    # the per-epoch line and the live bar (chainrule.train.progress)
    "progress.epoch": "第 {epoch}/{epochs} 轮",
    "progress.set.train": "训练",
    "progress.set.val": "验证集",
    "progress.set.test": "测试集",
    "progress.loss_acc": "{name}损失 {loss} 准确率 {accuracy}",
    "progress.loss": "{name}损失 {loss}",
    "progress.acc": "{name}准确率 {accuracy}",
    "progress.lr": "学习率 {lr}",
    "progress.speed": "{speed} 样本/秒",
    "progress.seconds": "{seconds} 秒",
    "progress.bar.loss": "损失",
    "progress.bar.acc": "准确率",
    "progress.bar.speed": "样本/秒",
    "progress.bar.unit": "批",
    # the trainer's lines about a checkpoint held back while the loss runs high
    "progress.held_back": "第 {epoch} 轮：暂不写入检查点（{kept}）：最近 {recent} 个批次的损失"
                          "中有 {above} 个高于 {threshold}（第一个批次的损失是 {reference}；"
                          "超过 {half} 个就停止训练）；较平稳的一轮的检查点会写入，最后一轮的"
                          "检查点总会写入",
    "progress.kept_last": "保留第 {epoch} 轮的上一个检查点",
    "progress.none_yet": "还没有写入任何检查点",
    "progress.held_written": "第 {epoch} 轮：上面暂不写入的检查点已经写入：训练在这里停止",
    # nn.summary's table
    "summary.layer": "层（类型）",
    "summary.shape": "输出形状",
    "summary.params": "参数",
    "summary.total": "参数总数：{count}",
    "summary.trainable": "可训练参数：{count}",
    # chainrule bench
    "bench.heading": "预热一轮之后计时一轮（{images} 张图像），取 {repeats} 个新进程的中位数；"
                     "{cores} 个核，{threads} 个 BLAS 线程{torch}; {libraries}",
    "bench.torch_pinned": "，PyTorch 使用同样多的线程",
    "bench.no_torch": "没有安装 PyTorch（pip install torch）：省略它的行和 /torch 列",
    "bench.config": "配置",
    "bench.framework": "框架",
    "bench.seconds": "秒",
    "bench.accuracy": "准确率",
    "bench.overhead": "每步开销 us",
    "bench.peak": "峰值内存 MiB",
    "bench.gemm_only": "（仅矩阵乘法）",
    "bench.agree": "各框架的准确率相差不超过 {spread}",
    # chainrule launch
    "launch.arg.ranks": "{text}：需要一个至少为 1 的整数",
    "launch.no_job": "launch：请给出每个进程运行的命令，例如 chainrule launch -n 2 train "
                     "--epochs 3",
    "launch.no_mpi4py": "launch：没有安装 mpi4py：pip install 'chainrule[mpi]'（mpi4py 和 "
                        "mpich wheel：不需要系统的 MPI）",
    "launch.no_mpiexec": "launch：在这个 Python 旁边和 PATH 上都没有找到 mpiexec：pip install "
                         "'chainrule[mpi]'，或用 --mpiexec PATH 指定一个",
    "launch.cannot_run": "launch：无法运行 {mpiexec}：没有这个文件",
    "launch.died": "chainrule launch：{dead}。{hint}",
    "launch.resume": "最后一个检查点完好无损：用 --resume {where} 继续训练",
    "launch.run_folder": "RUN（这次运行的文件夹）",
    "launch.rank": "{rank} 号进程（{host} 上的 pid {pid}）",
    "launch.unknown_rank": "{host} 上 pid 为 {pid} 的进程（编号未知：这次运行还没有打印各进程"
                           "的编号）",
    "launch.ended": "{who}已结束；mpiexec 结束了其他进程",
    "launch.killed": "{who}被信号 {number}（{name}）杀死；mpiexec 结束了其他进程",
    "launch.exited": "{who}以退出码 {number} 退出；mpiexec 结束了其他进程",
    # chainrule plot RUN1 RUN2 ...
    "plot.compared": "已写入 {path}（{count} 次运行：{labels}）",
    "plot.no_metrics": "{run}：这次运行没有可画的每轮指标（它没有训练任何一轮）",
    "plot.bad_row": "{run}：有一行指标不是带轮数的表：{row}",
    "plot.out_file": "--out {out}：需要一个图的文件名，实际找到的是{found}",
    "plot.empty_name": "一个空名字",
}
