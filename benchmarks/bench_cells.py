"""What one notebook cell costs a run: CPU in the CLI's process and in the run's kernel, per cell.

Executes a step's notebook of N cells (``x = i``, nothing printed) the way ``runbook run`` does
(``reports.execute_step``: papermill with the runbook's engine, in the run's shared kernel), a few
times for each N, and reports the CPU seconds of this process (papermill, nbclient, the saves)
and of the kernel's process (ipykernel's messaging, IPython; Linux ``/proc``), per notebook and per cell (the
slope between the smallest and the largest N). The cost of the notebooks' structure, apart from
what their cells do: ``bench_run.py`` times whole runs.

    python3 benchmarks/bench_cells.py                 # N = 1 and 41, 5 times each
    python3 benchmarks/bench_cells.py --cells 1 21 41 --repeat 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runbook import kernel, reports, startup  # noqa: E402


def notebook(folder: Path, cells: int) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# parameters", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(f"x = {i}") for i in range(cells)]
    nbformat.write(nb, folder / "01_inventory.ipynb")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, nargs="+", default=[1, 41])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    startup.load_notebook_runner()
    with tempfile.TemporaryDirectory(prefix="rbcells-") as tmp:
        folder = Path(tmp)
        run_dir = folder / "run"
        run_dir.mkdir()
        with kernel.shared_kernel(folder) as km:
            stat = Path(f"/proc/{km.provisioner.process.pid}/stat")

            def kernel_cpu() -> float:  # user + system, in clock ticks (10 ms)
                fields = stat.read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

            def step() -> None:
                reports.execute_step("inventory", run_dir, {}, run_id="bench", target_display="none",
                                     notebooks_dir=folder, km=km)

            results: dict[int, tuple[float, float]] = {}
            for cells in args.cells:
                notebook(folder, cells)
                step()  # the first run of a notebook compiles what later runs reuse
                cli, kern = [], []
                for _ in range(args.repeat):
                    c0, k0 = time.process_time(), kernel_cpu()
                    step()
                    cli.append(time.process_time() - c0)
                    kern.append(kernel_cpu() - k0)
                results[cells] = statistics.median(cli), statistics.median(kern)
                print(f"{cells:4d} cells: per notebook, CLI {results[cells][0] * 1000:7.1f} ms, "
                      f"kernel {results[cells][1] * 1000:7.1f} ms (medians of {args.repeat})")
    low, high = min(results), max(results)
    if high > low:
        per = [(results[high][i] - results[low][i]) / (high - low) * 1000 for i in (0, 1)]
        print(f"per cell: CLI {per[0]:.1f} ms, kernel {per[1]:.1f} ms of CPU")


if __name__ == "__main__":
    main()
