"""Progress: events reach the CLI from the run's kernels, and the CLI is never silent for long."""

from __future__ import annotations

import ast
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient.util import run_sync

from runbook import kernel, progress, reports


def test_events_written_by_another_process_reach_the_listeners_in_order(tmp_path):
    seen: list[str] = []
    stop = progress.listen(lambda e: seen.append(e["message"]))
    try:
        with progress.follow(tmp_path / progress.FILE_NAME):
            child = ("from runbook import progress\n"
                     "for i in range(3): progress.emit(f'step {i}')\n"
                     "with progress.scan('rows', total=10) as advance: advance(10)\n")
            subprocess.run([sys.executable, "-c", child], check=True, env=os.environ.copy())
    finally:
        stop()
    assert seen[:3] == ["step 0", "step 1", "step 2"] and seen[-1] == "rows"
    assert progress.ENV not in os.environ
    recorded = [json.loads(line) for line in (tmp_path / progress.FILE_NAME).read_text().splitlines()]
    assert [e["message"] for e in recorded] == seen and recorded[-1]["finished"] is True


def test_plain_output_is_timestamped_and_never_silent_for_long(monkeypatch):
    monkeypatch.setattr(progress, "HEARTBEAT_S", 1.0)
    out = io.StringIO()
    with progress.printed(out, live=False):
        progress.emit("migrate: 001_x (1/1)")
        progress.emit("001_x: statement 1 of 1 (line 3): UPDATE t SET a = 1", detail=True)
        import time
        time.sleep(2.5)
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("migrate: 001_x (1/1)") and lines[0][2] == ":"  # HH:MM:SS
    assert any(line.split("  ", 1)[1].startswith("… 001_x: statement 1 of 1") for line in lines[1:]), lines


def test_a_terminal_gets_a_bar_for_scans():
    out = io.StringIO()
    with progress.printed(out, live=True):
        with progress.scan("fingerprint contractors", total=1000) as advance:
            advance(500)
        progress.emit("inventory: PASSED")
    assert "inventory: PASSED" in out.getvalue()


def _stdout(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o["text"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                   if o.get("name") == "stdout")


def test_steps_share_one_kernel_but_not_their_variables(tmp_path):
    first, second = tmp_path / "01_inventory.ipynb", tmp_path / "02_backup.ipynb"
    for path, code in ((first, "import os, sys\nleft_behind = 1\nprint(os.getpid())\n"
                               "print(type(get_ipython().kernel).__name__, sys.executable, "
                               "*[bool(sys.modules.get(m)) for m in ('debugpy', 'jedi', 'prompt_toolkit')], "
                               "get_ipython().kernel.log.isEnabledFor(40))"),
                       (second, "import os\nprint(os.getpid())\nleft_behind")):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("# parameters", metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell(code)]
        nbformat.write(nb, path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with kernel.shared_kernel(tmp_path) as km:
        one = reports.execute_step("inventory", run_dir, {}, run_id="r", target_display="t", notebooks_dir=tmp_path, km=km)
        two = reports.execute_step("backup", run_dir, {}, run_id="r", target_display="t", notebooks_dir=tmp_path, km=km)
    assert one.passed
    assert not two.passed and "NameError" in (two.error or "")  # %reset -f between steps
    pid, started = _stdout(run_dir / first.name).splitlines()
    assert {pid, _stdout(run_dir / second.name).strip()} == {pid} and pid.isdigit()  # one kernel process ran both
    # ipykernel's kernel in this Python, without the debugger, completion or the terminal (never
    # loaded), and its log records below CRITICAL never made
    assert started == f"IPythonKernel {sys.executable} False False False False"


def _inventory_notebook(folder: Path, code: str) -> Path:
    """``folder/01_inventory.ipynb``: a parameters cell and one cell of ``code``; returns the
    (new) run folder its executed copy goes to."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# parameters", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, folder / "01_inventory.ipynb")
    (folder / "run").mkdir()
    return folder / "run"


def test_the_shared_kernel_listens_on_unix_sockets_not_ports(tmp_path):
    """No TCP port is picked for the kernel (picking a free port then binding it races other
    processes: "Address already in use" under parallel load); its sockets' folder goes with it."""
    run_dir = _inventory_notebook(tmp_path, "from ipykernel.kernelapp import IPKernelApp\n"
                                            "app = IPKernelApp.instance()\nprint(app.transport, app.connection_file)")
    with kernel.shared_kernel(tmp_path) as km:
        assert reports.execute_step("inventory", run_dir, {}, run_id="r", target_display="t",
                                    notebooks_dir=tmp_path, km=km).passed
        transport, connection_file = _stdout(run_dir / "01_inventory.ipynb").split()
        assert Path(connection_file).parent.is_dir()
    assert transport == "ipc"
    assert not Path(connection_file).parent.exists()


def test_runbook_clean_removes_the_sockets_folder_of_a_killed_runs_kernel(tmp_path, capsys):
    """A run killed (SIGKILL) cannot remove its kernel's sockets folder; ``runbook clean`` removes
    it by its owner tag, never a live run's."""
    import subprocess
    import tempfile

    from runbook.cli import main
    from runbook.owner import owner_tag

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = Path(tempfile.mkdtemp(prefix=f"{kernel.SOCKETS_PREFIX}{owner_tag(int(gone.stdout))}-"))
    (dead / "ipc-1").write_text("")
    live = Path(tempfile.mkdtemp(prefix=f"{kernel.SOCKETS_PREFIX}{owner_tag()}-"))
    try:
        assert main(["clean", "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "backups")]) == 0
        assert f"removed {dead}" in capsys.readouterr().out
        assert not dead.exists() and live.is_dir()
    finally:
        live.rmdir()


def test_the_kernel_starts_from_a_folder_that_holds_a_runbook_package_of_its_own(tmp_path):
    """The kernel starts in the notebooks' folder; a ``runbook`` package there is not what it
    runs (``python -P``): the notebook sees the installed one."""
    (tmp_path / "runbook").mkdir()
    (tmp_path / "runbook" / "__init__.py").write_text("raise SystemExit('the folder is not the runbook')\n")
    run_dir = _inventory_notebook(tmp_path, "import runbook\nprint(runbook.__file__)")
    with kernel.shared_kernel(tmp_path) as km:
        one = reports.execute_step("inventory", run_dir, {}, run_id="r", target_display="t", notebooks_dir=tmp_path, km=km)
    assert one.passed, one.error
    assert _stdout(run_dir / "01_inventory.ipynb").strip() == str(Path(reports.__file__).parent / "__init__.py")


def test_a_kernel_that_died_between_steps_fails_the_next_step_saying_so(tmp_path):
    """The shared kernel killed after a step: the next step fails at once, naming the dead
    kernel (not a reset timeout), and still leaves its report."""
    for name in ("01_inventory.ipynb", "02_backup.ipynb"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("# parameters", metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell("import os\nprint(os.getpid())")]
        nbformat.write(nb, tmp_path / name)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with kernel.shared_kernel(tmp_path) as km:
        one = reports.execute_step("inventory", run_dir, {}, run_id="r", target_display="t", notebooks_dir=tmp_path, km=km)
        assert one.passed, one.error
        kernel.fresh_namespace(km)  # the run's reset client is connected to the live kernel
        os.kill(int(_stdout(run_dir / "01_inventory.ipynb").strip()), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while run_sync(km.is_alive)():  # the kill is delivered
            assert time.monotonic() < deadline
            time.sleep(0.02)
        two = reports.execute_step("backup", run_dir, {}, run_id="r", target_display="t", notebooks_dir=tmp_path, km=km)
    assert not two.passed and "Kernel died before the next step could start" in (two.error or ""), two.error
    assert (run_dir / "02_backup.ipynb").is_file()  # the failed step's report is written


def test_a_running_step_leaves_its_notebook_on_disk_up_to_the_running_cell(tmp_path):
    """The executed notebook is saved when each cell starts (papermill's engine, without its
    second save when a cell completes): while a cell runs, the file on disk holds every cell
    before it with its output, so a run killed mid-cell leaves that much."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    output = run_dir / "01_inventory.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# parameters", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print('first cell done')"),
                nbformat.v4.new_code_cell("import json\n"
                                          f"on_disk = json.load(open({str(output)!r}))\n"
                                          "print([c['metadata']['papermill']['status'] for c in on_disk['cells']])\n"
                                          "print('first cell done' in json.dumps(on_disk))"),
                nbformat.v4.new_code_cell("print('last')")]
    nbformat.write(nb, tmp_path / "01_inventory.ipynb")
    with kernel.shared_kernel(tmp_path) as km:
        result = reports.execute_step("inventory", run_dir, {}, run_id="r", target_display="t", notebooks_dir=tmp_path, km=km)
    assert result.passed, result.error
    seen = _stdout(output).splitlines()
    statuses, first_saved = ast.literal_eval(seen[1]), seen[2]
    assert first_saved == "True"
    assert statuses[-3:] == ["completed", "running", "pending"]  # the earlier cells done, this one running
    final = nbformat.read(output, as_version=4)
    assert [c.metadata.papermill["status"] for c in final.cells[-3:]] == ["completed"] * 3
    assert "last" in _stdout(output)
