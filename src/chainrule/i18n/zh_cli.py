"""The command line's notices and error messages (chainrule.cli*).

Chinese; see :mod:`chainrule.i18n` (the keys match the other language's part). Flags,
file names, data set names and numbers stay as they are; a library's English detail
(``{detail}``) follows a Chinese lead-in.
"""

MESSAGES: dict[str, str] = {
    # one-line errors on stderr: the lead-in by kind (a library's English detail follows)
    "cli.error": "chainrule: 错误：{detail}",
    "cli.error.usage": "chainrule: 错误：{detail}",
    "cli.error.config": "chainrule: 错误：设置有误：{detail}",
    "cli.error.data": "chainrule: 错误：数据有误：{detail}",
    "cli.error.checkpoint": "chainrule: 错误：检查点有误：{detail}",
    "cli.error.state_dict": "chainrule: 错误：检查点与模型不符：{detail}",
    "cli.error.memory_limit": "chainrule: 错误：超出内存上限：{detail}",
    "cli.error.shape": "chainrule: 错误：形状不符：{detail}",
    "cli.error.dtype": "chainrule: 错误：数据类型不符：{detail}",
    "cli.error.os_bare": "chainrule: 错误：{reason}",
    "cli.error.memory": "chainrule: 错误：内存不足（{detail}）；请换一个更小的模型或批大小",
    "cli.error.allocation": "一次内存分配失败",
    "cli.usage": "chainrule: 错误：{message}（参见 {prog} --help）",
    "cli.interrupted": "chainrule: 已中断",
    "cli.stopped.interrupted": "chainrule: 训练被中断：{detail}",
    "cli.stopped.diverged": "chainrule: 训练发散：{detail}",
    "cli.note": "注意：{notice}",
    "cli.wrote": "已写入 {path}",
    # an OS error's reason: the system's words, said in the other language where known
    "cli.errno.ENOENT": "没有这个文件或文件夹（{reason}）",
    "cli.errno.EACCES": "没有权限（{reason}）",
    "cli.errno.EPERM": "不允许这个操作（{reason}）",
    "cli.errno.EROFS": "只读文件系统（{reason}）",
    "cli.errno.ENOSPC": "磁盘已满（{reason}）",
    "cli.errno.EDQUOT": "超出磁盘配额（{reason}）",
    "cli.errno.EISDIR": "这是一个文件夹（{reason}）",
    "cli.errno.ENOTDIR": "路径中有一部分不是文件夹（{reason}）",
    "cli.errno.EEXIST": "已经存在（{reason}）",
    "cli.errno.ENAMETOOLONG": "文件名太长（{reason}）",
    "cli.errno.EIO": "输入/输出错误（{reason}）",
    # argparse's errors (its English, Python 3.11 to 3.13) and the flag types'
    "cli.arg.required": "缺少必需的参数：{names}",
    "cli.arg.unrecognized": "无法识别的参数：{names}",
    "cli.arg.argument": "参数 {name}：{inner}",
    "cli.arg.invalid_choice": "无效的选项：{value}（可选：{choices}）",
    "cli.arg.invalid_value": "无效的 {type} 值：{value}",
    "cli.arg.expected_one": "需要一个值",
    "cli.arg.expected_some": "至少需要一个值",
    "cli.arg.ambiguous": "选项有歧义：{option} 可以指 {matches}",
    "cli.arg.not_allowed": "不能与参数 {other} 一起使用",
    "cli.arg.ignored_explicit": "忽略了显式给出的值 {value}",
    "cli.arg.one_required": "参数 {names} 中必须给出一个",
    "cli.arg.positive_int": "需要一个 >= 1 的整数，得到的是 {text}",
    "cli.arg.port": "需要一个端口号，得到的是 {text}",
    "cli.arg.port_range": "需要 0 到 65535 之间的端口号，得到的是 {port}",
    # what is found at a path
    "cli.path.nothing": "什么也没有（路径不存在）",
    "cli.path.file": "一个普通文件",
    "cli.path.folder": "一个文件夹",
    "cli.path.loop": "一个符号链接循环",
    "cli.path.no_checkpoint": "一个没有 {file} 的文件夹",
    # run folders and checkpoints (cli_run)
    "cli.run.empty_name": "{flag}：需要一个运行文件夹或检查点文件，得到的是空名字",
    "cli.run.not_a_run": "{name}：需要一个运行文件夹或检查点文件，实际找到的是{found}",
    "cli.run.diverged_weights": "{path}：{key} 含有 {bad}：产生它的训练发散了；请用更早的"
                                "检查点，或者重新训练",
    "cli.run.config_not_table": "{path}：其中保存的设置不是一张设置表",
    "cli.run.playground_export": "{path}：这是从 playground 导出的运行，其设置是 chainrule "
                                 "train 无法构建的（回归、CSV 数据、x 和 y 以外的特征，或线性"
                                 "网络）；请这样打开它：chainrule playground --load {run}",
    "cli.run.bad_saved_config": "{path}：其中保存的设置无效（{detail}）",
    "cli.run.no_biases": "{path}：没有找到任何层的偏置：不是 chainrule 的分类器",
    "cli.matplotlib": "画图需要 matplotlib，但它无法导入（{reason}）；请安装：pip install "
                      "matplotlib",
    "cli.folder.run_folder": "运行文件夹",
    "cli.folder.empty_name": "{flag}：需要一个文件夹名，得到的是空字符串",
    "cli.folder.cannot_create": "{flag} {path}：无法创建这个文件夹（{reason}）",
    "cli.folder.not_folder": "{flag} {path}：需要一个文件夹，实际找到的是{found}",
    "cli.folder.not_folder_at": "{flag} {path}：需要一个文件夹，实际在 {blocker} 找到的是"
                                "{found}",
    "cli.folder.unwritable": "{flag} {path}：无法写入运行文件夹（{reason}）",
    "cli.folder.unwritable_resume": "{flag} {path}：无法写入运行文件夹（{reason}）；传入 --out "
                                    "FOLDER 可在另一个文件夹中继续这次训练",
    "cli.folder.locked": "{flag} {path}：另一个 chainrule 进程{holder}正在写这个运行文件夹；"
                         "请等它结束，或用 --out 选另一个文件夹",
    "cli.folder.cannot_lock": "{flag} {path}：无法锁定运行文件夹",
    "cli.folder.choose_writable": "{error}；请用 --out 选一个可写的文件夹",
    "cli.folder.cannot_create_run": "运行文件夹 {path}：无法创建（{reason}）；请用 --out 选一个"
                                    "可写的文件夹",
    "cli.folder.too_many": "运行文件夹 {base}：这个名字的运行已有 {count} 个；请用 --out 选一个"
                           "文件夹",
    "cli.folder.holds_run": "{flag} {out} 中已经有一次运行（{existing}）；请选另一个文件夹，或用 "
                            "--resume {out} 继续它",
    "cli.folder.foreign_files": "{flag} {out} 中有 {stale}，但不是 chainrule 的运行留下的（没有 "
                                "{lock}）；请选一个空文件夹或另一个 --out",
    "cli.folder.cannot_remove": "{flag} {out}：无法删除之前一次运行留下的过时文件 {name}"
                                "（{reason}）",
    # --data-dir / --download for a data set that reads no files
    "cli.data.unread": "{given}：{subject}{kind}，不读取任何文件；{fix}",
    "cli.data.subject_run": "{run} 是在 {name} 上训练的，这个数据集",
    "cli.data.subject_set": "--dataset {name} ",
    "cli.data.built_in": "内置于 chainrule 中",
    "cli.data.generated": "由 chainrule 生成",
    "cli.data.leave_out": "请去掉 {flag}",
    "cli.data.fix_train": "请去掉 {flag}，或传入 --dataset mnist {given} 在 MNIST 上训练",
    "cli.data.fix_train_dir": "请去掉 {flag}，或传入 --dataset mnist {given} 用那个文件夹中的 "
                              "MNIST 训练",
    "cli.data.fix_eval": "请去掉 {flag}，或传入 --dataset mnist {given} 在 MNIST 上评估它",
    "cli.data.fix_eval_dir": "请去掉 {flag}，或传入 --dataset mnist {given} 用那个文件夹中的 "
                             "MNIST 评估它",
    # plot, eval, predict (cli)
    "cli.plot.out_one_run": "--out {out}：它指定多次运行对比图的文件名；一次运行的图写在它自己的"
                            "文件夹里",
    "cli.kind.points": "2 维的点",
    "cli.kind.colour": "3x32x32 的彩色图像",
    "cli.kind.grey": "28x28 的图像",
    "cli.eval.other_kind": "--dataset {name}：{run} 中的模型接受的是{kind}（在 {trained} 上训练）；"
                           "请选一个这种类型的数据集",
    "cli.eval.more_classes": "--dataset {name} 有 {classes} 个类别，而 {run} 中的模型只有 "
                             "{outputs} 个输出",
    "cli.eval.result": "{name} 测试集：准确率 {accuracy}，损失 {loss}，{count} 个样本",
    "cli.eval.confusion": "混淆矩阵（行：真实类别，列：预测类别）：",
    "cli.predict.not_images": "{run}：predict 需要一个接受 28x28 灰度图像的模型，这个模型是在 "
                              "{dataset}（{kind}）上训练的；可用 chainrule eval 在它的测试集上"
                              "测试它",
    "cli.predict.sigmoid": "（这是 --loss {loss} 的运行：每个类别有各自的 sigmoid 概率；"
                           "它们的和不一定是 100%）",
    "cli.predict.bad_image": "无法读取图像：{detail}",
    "cli.predict.more": "... 另有 {count} 张图像（用 --limit 显示更多）",
    # playground
    "cli.playground.needs_server": "playground 需要它的 web 服务器（没有安装 {name}）：pip "
                                   "install 'chainrule[playground]'",
    "cli.playground.load": "无法打开 --load 的运行：{detail}",
    "cli.playground.in_use": "端口已被占用：请换一个 --port，或去掉 --port 使用空闲端口",
    "cli.playground.cannot_listen": "playground：无法在 {host}:{port} 上监听（{reason}）",
    "cli.playground.serving": "chainrule playground 运行在 {url}（只有本机可以打开）；按 "
                              "Ctrl-C 停止",
    "cli.playground.stopped": "chainrule playground 已停止",
    # example
    "cli.example.out_file": "--out {folder}：需要一个存放图的文件夹，实际找到的是一个文件",
    # train: the config file (cli_train)
    "cli.config.empty": "--config：需要一个文件名，得到的是空字符串",
    "cli.config.not_toml": "--config {path}：需要一个 TOML 文件，实际找到的是{found}",
    "cli.config.missing": "--config {path}：没有这个文件",
    "cli.config.unreadable": "--config {path}：无法读取（{reason}）",
    "cli.config.too_large": "--config {path}：大于 {mib} MiB，不是配置文件",
    "cli.config.invalid_toml": "--config {path}：不是有效的 TOML（{detail}）",
    "cli.config.not_here": "--config {path}：{key} 不能在配置文件中设置；请在命令行上传入 "
                           "--{key}",
    "cli.config.unknown": "--config {path}：未知的设置项：{keys}（已知的有：{known}）",
    "cli.config.out": "--config {path}：out：需要一个文件夹名，得到的是 {value}",
    "cli.config.plot": "--config {path}：plot：需要 true 或 false，得到的是 {value}",
    "cli.config.value": "--config {path}：设置有误：{detail}",
    "cli.config.train_table": "--config {path}：train：需要一张 [train] 设置表，得到的是 "
                              "{value}",
    "cli.config.set_twice": "--config {path}：{name} 被设置了{where}；请只设置一次",
    "cli.config.both": "两次（{first}和{second}）",
    "cli.config.twice": "两次（都在{place}）",
    "cli.config.top": "顶层",
    "cli.config.in_train": " [train] 表中",
    # train: the run
    "cli.train.best_only": "--resume {resume}：这个文件只保存了最佳一轮的权重、设置和指标，"
                           "没有继续训练所需的优化器状态和数据顺序；传入 --resume {folder} "
                           "可从最后一个检查点继续，或用 chainrule eval {path} 评估它",
    "cli.train.no_cuda": "--device {device}：没有 CUDA 设备（请在有 NVIDIA GPU 的机器上安装 "
                         "chainrule[gpu]）",
    "cli.train.mini_mnist": "提示：没有找到完整的 MNIST（{folders} 中没有它的文件；可设置 "
                            "CHAINRULE_DATA、传入 --data-dir 或 --download）；改用内置的 "
                            "mini-MNIST（10,000 张图像）训练",
    "cli.train.stale_removed": "提示：{path} 中有一次在第一个检查点之前就停止的运行留下的 "
                               "{names}；它们将重新开始",
    "cli.train.no_saved_indices": "{path}：这次运行设置了 --val-split {split}，却没有保存验证集"
                                  "的索引",
    "cli.train.bad_saved_indices": "{path}：保存的验证集索引有误：{detail}",
    "cli.train.sets_val": "{train} 个训练样本、{val} 个验证样本（由 --val-split 从 {total} 个"
                          "训练样本中留出）和 {test} 个测试样本",
    "cli.train.sets": "{train} 个训练样本和 {test} 个测试样本（没有 --val-split：每轮的评估列"
                      "和 best.safetensors 用的是测试集）",
    "cli.train.epoch": "{count} 轮",
    "cli.train.epochs": "{count} 轮",
    "cli.train.data": "数据：{dataset}，{sets}；{optimizer} 学习率 {lr}，批大小 {batch}，"
                      "{epochs}，随机种子 {seed}，{dtype}",
    "cli.train.threads": "线程：{shown} 个 {library} BLAS 线程（{how}），{cores} 个核",
    "cli.train.threads_load": "线程：{shown} 个 {library} BLAS 线程（{how}），{cores} 个核，"
                              "平均负载 {load}",
    "cli.train.threads_set": "由 --threads 设置",
    "cli.train.threads_default": "库的默认值",
    "cli.train.threads_unknown": "未知数量",
    "cli.train.busy": "提示：这台机器很忙（{cores} 个核上的平均负载为 {load}），{threads} 个 "
                      "BLAS 线程会互相等待，也会等待其他进程；这时 --threads 1 往往要快好几倍",
    "cli.train.resumed": "已从 {path} 恢复训练：第 {epoch} 轮，第 {step} 步",
    "cli.train.already_trained": "提示：这次运行已经训练了 --epochs {epochs} 中的 {epoch} 轮："
                                 "没有可训练的，只评估测试集；传入 --epochs {next} 或更多可继续"
                                 "训练",
    "cli.train.nothing_kept": "无（没有训练任何一轮：什么也没有保存）",
    "cli.train.best": "最佳模型（第 {epoch} 轮，验证集准确率 {chosen}）：测试集准确率 "
                      "{accuracy} | 测试集损失 {loss}",
    "cli.train.result": "测试集准确率 {accuracy}（最后的模型，第 {epoch} 轮）| 测试集损失 "
                        "{loss} | 用时 {time}s | 检查点 {where}",
    # info
    "cli.info.checkpoint": "检查点：{path}（第 {epoch} 轮，第 {step} 步，最佳为第 {best} 轮）",
    "cli.info.config": "设置：",
    "cli.info.metrics_unreadable": "提示：无法读取 {folder}/metrics.jsonl（{detail}）；显示"
                                   "检查点中保存的指标",
    "cli.info.validation": "验证集：从 {total} 个训练样本中留出 {held} 个（--val-split "
                           "{split}，由随机种子 {seed} 抽取）；在其余 {rest} 个样本上训练",
    "cli.info.per_epoch": "每轮的评估：{note}",
    "cli.info.note_val": "val 列是 --val-split 留出的验证集图像，best.safetensors 是按它选出的",
    "cli.info.note_test": "test 列是测试集，每轮评估一次（没有 --val-split），"
                          "best.safetensors 是按它选出的",
    "cli.info.note_test_old": "test 列是测试集，每轮评估一次（没有 --val-split），"
                              "best.safetensors 是按它选出的；这次运行早于 --val-split，"
                              "把它们保存成了 val_*",
    "cli.info.metrics": "指标：",
    "cli.info.tested": "测试集，训练结束后评估一次：",
    "cli.info.model": "  {name}模型（第 {epoch} 轮{how}）：准确率 {accuracy}，损失 {loss}，"
                      "{count} 个样本",
    "cli.info.best": "最佳",
    "cli.info.last": "最后的",
    "cli.info.chosen_by": "，按{column} {value} 选出",
    "cli.info.val_accuracy": "验证集准确率",
    "cli.info.val_loss": "验证集损失",
    "cli.info.environment": "环境：",
    # --help: argparse's headings, the top-level description and examples, each command's
    # summary (each option's help stays English)
    "cli.help.usage": "用法：",
    "cli.help.options": "\n选项：\n",
    "cli.help.positional": "\n位置参数：\n",
    "cli.help.commands": "\n命令：\n",
    "cli.help.help": "显示这条帮助信息并退出",
    "cli.help.version": "显示程序的版本号并退出",
    "cli.help.lang": "提示和错误信息的语言：en 或 zh（默认：$CHAINRULE_LANG，否则按区域设置 "
                     "LC_ALL、LC_MESSAGES 或 LANG，否则 en）",
    "cli.help.description": "训练、评估并查看神经网络的内部：用 PyTorch 的 API 写成，运行在 "
                            "NumPy 上。",
    "cli.help.epilog": """示例：
  chainrule train                      教程中的 784-16-16-10 sigmoid 网络，在 MNIST 上训练
  chainrule train --dataset spiral --hidden 20 --activation tanh --epochs 40 --plot
  chainrule eval runs/NAME             测试集准确率、损失和混淆矩阵
  chainrule plot runs/NAME             曲线、混淆矩阵、权重（PNG 文件）
  chainrule example backprop           教程中 2-2-2 的算例，每一个数字
  chainrule playground                 在浏览器中训练一个网络，看着它学习

'chainrule COMMAND --help' 列出一个命令的参数。""",
    "cli.help.train": "训练一个网络（默认：教程中 MNIST 的多层感知机）",
    "cli.help.eval": "在测试集上评估一次训练好的运行",
    "cli.help.predict": "图像的 top-3 类别（PNG、JPEG、PGM、BMP、GIF、TIFF、WebP 或 IDX）",
    "cli.help.info": "一次运行的设置、指标和环境",
    "cli.help.bench": "为教程中 MNIST 网络的一轮训练计时：chainrule（即时执行、捕获重放）对比 "
                      "PyTorch 和纯 NumPy",
    "cli.help.plot": "把一次运行的标准图写成 PNG 放在它旁边，或把多次运行的曲线画在一张图里",
    "cli.help.example": "用真实的数字和图一步步走过教程中的一个计算或想法",
    "cli.help.playground": "在浏览器中训练一个小网络，看着它学习（本地网页；需要 'playground' "
                           "附加组件）",
    "cli.help.launch": "用 mpiexec 在 N 个进程上运行一个 chainrule 命令（基于 MPI 的数据并行"
                       "训练；需要 'mpi' 附加组件）；某个进程退出时指出是哪一个",
    "cli.help.eval.run": "运行文件夹或检查点文件",
    "cli.help.eval.dataset": "在另一个同样形状的数据集上评估",
    "cli.help.eval.data_dir": "存放数据集文件的文件夹，读法与 train --data-dir 相同（默认：这次"
                              "运行自己的 --data-dir，否则 $CHAINRULE_DATA，然后是缓存）",
    "cli.help.predict.run": "运行文件夹或检查点文件",
    "cli.help.predict.images": "图片文件（缩放成 28x28 灰度图，背景是浅色时反转）或 IDX 图像"
                               "文件",
    "cli.help.predict.limit": "从 IDX 文件中显示的图像数（至少 1）",
    "cli.help.info.run": "运行文件夹或检查点文件",
    "cli.help.bench.full": "全部三种配置，取 3 个进程的中位数（需要几分钟）",
    "cli.help.plot.run": "运行文件夹或检查点文件；两个或更多时：把它们的损失和准确率曲线画在一张"
                         "图里，图例写出每次运行的名字和不同的设置",
    "cli.help.plot.out": "多次运行对比图的文件名（默认：存放这些运行的文件夹中的 compare.png）",
    "cli.help.playground.port": "127.0.0.1 上的端口（默认：一个空闲端口）",
    "cli.help.playground.no_browser": "只打印网址，不打开浏览器",
    "cli.help.playground.load": "打开一次训练好的 2 维运行：chainrule train --dataset "
                                "circles|xor|gaussians|spiral|moons 的运行文件夹，或 "
                                "playground 导出的运行",
    "cli.help.playground.export_dir": "网页上 Export 按钮写入运行文件夹的位置（默认 runs）",
    # train's flags and the epilog of its --help ({sets}, ... : the lists of recipe)
    "cli.help.train.epilog": (
        "恢复的运行保留训练时的每一项设置；只有 {resumable}（以及 --out、--plot）可以改变，\n"
        "而 step、cosine、warmup 或 onecycle 学习率调度按轮数排好时 --epochs 也不能改变。\n"
        "模型的内存（参数、梯度、优化器状态、一个批次的激活值）在构建之前估算，超过 4 GiB\n"
        "就拒绝；设置 {memory_env}=SIZE（例如 16G）可以允许更多。"),
    "cli.help.train.model": "mlp（默认：Flatten 和 --hidden 的各层）| lenet（LeNet-5：卷积 6@5x5 "
                            "pad 2，最大池化，卷积 16@5x5，最大池化，120，84，10；61,706 个参数）"
                            "| cnn（两个 3x3 卷积块，带 BatchNorm、ReLU 和最大池化，dropout 0.25，"
                            "线性层）。lenet 和 cnn 默认用 --activation relu --optimizer momentum "
                            "--lr 0.05 --batch-size 64 --schedule cosine，只接受图像（28x28，或 "
                            "CIFAR-10 的 3x32x32）",
    "cli.help.train.dataset": "{sets}（默认：找到 mnist 或用 --data-dir、--download 指定时用 "
                              "mnist，否则用内置的 mini-MNIST）",
    "cli.help.train.data_dir": "存放数据集文件的文件夹：IDX 文件，或 CIFAR-10 的 .bin 文件或 "
                               "cifar-10-binary.tar.gz（只从它或它下面以数据集命名的子文件夹读取，"
                               "不去别处找）",
    "cli.help.train.download": "当 --data-dir 或缓存中没有数据集的任何文件时下载它（不加 "
                               "--dataset 时下载 mnist）",
    "cli.help.train.hidden": "--model mlp 的隐藏层大小，例如 16,16（默认）",
    "cli.help.train.activation": "{activations}（激活函数，默认 sigmoid）",
    "cli.help.train.loss": "cross_entropy（默认：softmax，然后取真实类别的 -ln p，在批次上取平均）"
                           "| mse（network.py 的二次代价：sigmoid 输出 a 对 one-hot 目标 y，1/2 * "
                           "各类别上 (a - y)^2 之和，在批次上取平均）| bce（network2.py 的交叉熵代"
                           "价：sigmoid 输出，-[y ln a + (1 - y) ln(1 - a)] 对各类别求和，在批次上"
                           "取平均）| multi_margin（多类 hinge 损失）。mse 和 bce 的运行在 eval 和"
                           " predict 中给每个类别各自的 sigmoid 概率",
    "cli.help.train.optimizer": "{optimizers}（优化器，默认 sgd）",
    "cli.help.train.lr": "学习率（默认：sgd 为 0.5，momentum 为 0.01，adam 为 0.001）",
    "cli.help.train.momentum": "momentum/nesterov 的动量（默认 0.9）",
    "cli.help.train.weight_decay": "L2 权重衰减 wd：每一步的梯度加上 wd * w（sgd：w -= lr * (grad "
                                   "+ wd * w)）；adamw 在梯度之外单独减去 lr * wd * w。它就是 "
                                   "network2.py 的 lambda/n：lambda 5.0、n = 50,000 张训练图像即 "
                                   "--weight-decay 1e-4。除非加 --no-bias-decay，偏置也会衰减（默"
                                   "认 0）",
    "cli.help.train.no_bias_decay": "只衰减权重：偏置和 BatchNorm/LayerNorm 的参数的权重衰减为 0（"
                                    "优化器的第二个参数组），与 network2.py 相同",
    "cli.help.train.dropout": "每个隐藏层之后的 dropout 概率（默认 0）",
    "cli.help.train.augment": "每个训练批次都重新变形（图像数据集；验证集和测试集的图像从不变形）"
                              "：逗号分隔的 shift（整像素平移，每个方向最多 2）、rotate（最多 15 "
                              "度）、elastic（Simard et al. 2003：平滑的随机位移，sigma 4，alpha "
                              "34）；由 --seed 抽取，所以 --resume 会重复它们（默认 none）",
    "cli.help.train.init": "权重如何初始化（增益 g 由 --activation 决定：tanh 5/3，relu 和 "
                           "leaky_relu 约为 sqrt(2)，其他为 1）：default（PyTorch 的：权重和偏置 "
                           "U(-1/sqrt(fan_in), 1/sqrt(fan_in))）| xavier_uniform（U(-a, a)，a = g "
                           "* sqrt(6 / (fan_in + fan_out))）| xavier_normal（N(0, g^2 * 2 / "
                           "(fan_in + fan_out))）| kaiming_uniform（U(-b, b)，b = g * sqrt(3 / "
                           "fan_in)）| kaiming_normal（N(0, g^2 / fan_in)）| orthogonal（正交矩阵"
                           "乘以 g）| normal（权重和偏置都取 N(0, S^2)，S = --init-std，默认 1："
                           "network.py 的 N(0, 1)）| normal_fan_in（权重 N(0, 1 / fan_in)，偏置 "
                           "N(0, 1)：network2.py 的 default_weight_initializer）。除 default、"
                           "normal 和 normal_fan_in 外都把偏置设为 0",
    "cli.help.train.init_std": "--init normal 的标准差 S（默认 1.0）；只用于 --init normal",
    "cli.help.train.schedule": "{schedules}（学习率调度，默认 none）",
    "cli.help.train.batch_size": "小批量的大小（默认 32）",
    "cli.help.train.epochs": "训练的轮数（默认 5）",
    "cli.help.train.seed": "随机种子（默认 0）",
    "cli.help.train.val_split": "留出 N 张训练图像作为验证集：一个数量（--val-split 10000："
                                "Nielsen 的 50,000 张训练 / 10,000 张验证）或 (0, 1) 中的比例；由 "
                                "--seed 抽取并随运行保存，所以 --resume 保持不变。这时每轮的 val "
                                "列和 best.safetensors 使用它，测试集在训练结束后为最佳模型和最后"
                                "的模型各评估一次。默认：none，这时每轮的评估列（标为 test）和 "
                                "best.safetensors 使用测试集",
    "cli.help.train.dtype": "float32（默认）| float64：模型和数据的 dtype，随运行保存（eval、"
                            "predict 和 --resume 会用它）；float64 大约需要两倍的内存和时间",
    "cli.help.train.threads": "NumPy 矩阵乘法的 BLAS（和 OpenMP）线程数（默认：库的设置，通常每核"
                              "一个）；在繁忙的机器上 --threads 1 往往要快好几倍。运行的开头和 "
                              "chainrule info 会显示这个数；--resume 时可以改变",
    "cli.help.train.device": "cpu（默认）或 cuda",
    "cli.help.train.out": "运行文件夹（默认 runs/<dataset>-<YYYYmmdd-HHMMSS>，被占用时加 -2、-3、"
                          "...）；如果其中有另一次运行的检查点就拒绝",
    "cli.help.train.resume": "从文件夹（或它的 checkpoint.safetensors）继续一次运行；只有 "
                             "{resumable} 可以与这次运行的设置不同",
    "cli.help.train.config": "TOML 文件，可以写除 --resume 和 --config 以外的任何设置；命令行参数"
                             "优先于它",
    "cli.help.train.plot": "在运行旁边写出标准图（PNG：曲线、混淆矩阵、权重、...）",
}
