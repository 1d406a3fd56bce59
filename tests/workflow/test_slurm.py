"""Opt-in: the workflow through the SLURM executor on a one-node cluster on loopback, results equal a local run.

Run with ``LD_TEST_SLURM=1 python -m pytest tests/workflow/test_slurm.py -q -p no:cacheprovider``.

The test installs Debian's ``slurm-wlm`` and ``munge`` when they are missing
(root or password-less sudo needed), starts ``munged``, ``slurmctld`` and
``slurmd`` in the foreground with a generated munge key and a minimal
``slurm.conf`` in a temporary folder (ports chosen free, node ``localhost`` on
127.0.0.1, no accounting database), runs the small demo workflow once locally
and once with ``--executor slurm --profile profiles/slurm``, compares every
result table (``data/processed/results/*.csv``) byte for byte, and stops the
daemons it started. ``provenance.json`` (it holds the run date) and the
rendered reports are not compared.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shared import SMALL_DEMO, small_workflow

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("LD_TEST_SLURM") != "1",
        reason="opt-in: set LD_TEST_SLURM=1 (installs and starts a one-node SLURM cluster)",
    ),
]

COMMANDS = {"munged": "munge", "slurmctld": "slurm-wlm", "slurmd": "slurm-wlm", "sbatch": "slurm-wlm"}
TIMEOUT = 1800
# the small demo of tests/workflow/test_pipeline.py with 4 pilots of 24 municipalities, so that the comparison's
# matching (3 controls per pilot, without replacement) has controls to spare
DEMO = {**SMALL_DEMO, "n_municipalities": 24, "n_pilots": 4}


def ensure_packages() -> None:
    """Install slurm-wlm and munge with apt-get when a command is missing, else skip."""
    missing = [c for c in COMMANDS if shutil.which(c) is None]
    if not missing:
        return
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if shutil.which("apt-get") is None or (
        prefix and subprocess.run([*prefix, "true"], capture_output=True).returncode != 0
    ):
        pytest.skip(f"{', '.join(missing)} missing and apt-get cannot be used; install slurm-wlm munge")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
    result = subprocess.run(
        [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "slurm-wlm", "munge"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if any(shutil.which(c) is None for c in COMMANDS):
        pytest.skip(f"could not install slurm-wlm munge: {result.stderr[-800:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mb() -> int:
    with open("/proc/meminfo") as handle:
        total_kb = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
    return total_kb // 1024


class Cluster:
    """munged + slurmctld + slurmd in the foreground, configured in ``root``; ``stop()`` ends them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.conf = root / "slurm.conf"
        self.socket = root / "munge" / "munge.socket"
        # srun first on PATH: the executor's job step (snakemake-executor-plugin-slurm-jobstep) removes
        # SLURM_* variables, SLURM_CONF among them, before its nested srun; a real cluster has its
        # slurm.conf in /etc/slurm, this one keeps it here, so the wrapper sets it again
        self.bin = root / "bin"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf), "PATH": f"{self.bin}:{os.environ.get('PATH', '')}"}

    def write_config(self) -> None:
        munge = self.root / "munge"
        munge.mkdir(mode=0o700)
        key = munge / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        for name in ("state", "spool", "log", "bin"):
            (self.root / name).mkdir(mode=0o755)
        srun = self.bin / "srun"
        srun.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {shutil.which("srun")} "$@"\n')
        srun.chmod(0o755)
        host = socket.gethostname().split(".")[0]
        # half the machine's memory, so that slurmd does not drain the node for "low RealMemory"
        real_memory = max(2000, memory_mb() // 2)
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=ldtest",
                    f"SlurmctldHost={host}(127.0.0.1)",
                    f"SlurmctldPort={free_port()}",
                    f"SlurmdPort={free_port()}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    "AuthType=auth/munge",
                    "CredType=cred/munge",
                    f"AuthInfo=socket={self.socket}",
                    f"StateSaveLocation={self.root / 'state'}",
                    f"SlurmdSpoolDir={self.root / 'spool'}",
                    f"SlurmctldPidFile={self.root / 'slurmctld.pid'}",
                    f"SlurmdPidFile={self.root / 'slurmd.pid'}",
                    f"SlurmctldLogFile={self.root / 'log' / 'slurmctld.log'}",
                    f"SlurmdLogFile={self.root / 'log' / 'slurmd.log'}",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core_Memory",
                    "SchedulerType=sched/backfill",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "MpiDefault=none",
                    "ReturnToService=2",
                    "SlurmdParameters=config_overrides",
                    "MinJobAge=600",  # finished jobs stay visible to squeue, which the executor polls
                    "SlurmctldTimeout=30",
                    "SlurmdTimeout=30",
                    f"NodeName=localhost NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=2 RealMemory={real_memory} State=UNKNOWN",
                    "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            )
        )

    def spawn(self, name: str, command: list[str]) -> None:
        log = (self.root / "log" / f"{name}.out").open("w")
        self.processes.append((name, subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env)))

    def start(self) -> None:
        self.write_config()
        munge = self.root / "munge"
        self.spawn(
            "munged",
            [
                "munged",
                "--foreground",
                "--force",
                f"--key-file={munge / 'munge.key'}",
                f"--socket={self.socket}",
                f"--pid-file={munge / 'munged.pid'}",
                f"--log-file={munge / 'munged.log'}",
                f"--seed-file={munge / 'munged.seed'}",
            ],
        )
        self.wait_for(lambda: self.socket.exists(), "munged socket")
        self.spawn("slurmctld", ["slurmctld", "-D", "-c", "-i", "-f", str(self.conf)])
        self.wait_for(
            lambda: self.run("scontrol", "ping").returncode == 0 and "UP" in self.run("scontrol", "ping").stdout,
            "slurmctld",
        )
        self.spawn("slurmd", ["slurmd", "-D", "-N", "localhost", "-f", str(self.conf)])
        self.wait_for(
            lambda: self.run("sinfo", "-h", "-o", "%T").stdout.strip() in ("idle", "idle*", "mixed", "allocated"),
            "node idle",
        )

    def run(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(command), capture_output=True, text=True, env=self.env, timeout=30)

    def wait_for(self, ready, what: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for name, process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited ({process.returncode}) while waiting for {what}:\n{self.logs()}")
            try:
                if ready():
                    return
            except (OSError, subprocess.SubprocessError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"timed out waiting for {what}:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted((self.root / "log").glob("*"))
            if p.is_file()
        )

    def stop(self) -> None:
        """Stop the daemons this cluster started (slurmd, slurmctld, munged), by their process ids."""
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        self.processes.clear()


def workflow_copy(folder: Path) -> Path:
    """The workflow with a small demo (``DEMO``), in ``folder``."""
    return small_workflow(folder, demo=DEMO)


def snakemake(folder: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--directory",
        str(folder),
        "--snakefile",
        str(folder / "Snakefile"),
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=TIMEOUT, env=env)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install 'lokaldemokrati-eval[slurm]'")
    ensure_packages()
    root = tmp_path_factory.mktemp("slurm")
    root.chmod(0o755)
    cluster = Cluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def test_slurm_run_equals_local_run(cluster, tmp_path):
    local = workflow_copy(tmp_path / "local")
    result = snakemake(local, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]

    remote = workflow_copy(tmp_path / "slurm")
    result = snakemake(
        remote,
        "--profile",
        str(remote / "profiles" / "slurm"),
        "--jobs",
        "4",
        "--default-resources",
        "slurm_partition=debug",
        "--slurm-no-account",
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--slurm-keep-successful-logs",
        "--latency-wait",
        "10",
        env=cluster.env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:] + "\n" + cluster.logs()
    # every job but the local rules (provenance, data_quality_table, the compare gather) ran as a SLURM job
    ran = {p.name.removeprefix("rule_") for p in (remote / ".snakemake" / "slurm_logs").iterdir()}
    expected = {
        "demo_data",
        "ingest",
        "validate",
        "weight",
        "estimate",
        "compare_turnout",
        "compare_survey",
        "programme_report",
        "pilot_report",
        "appendix_report",
    }
    assert expected <= ran, f"rules without a SLURM job log: {sorted(expected - ran)}"
    assert not {"provenance", "data_quality_table", "compare"} & ran, "a local rule was sent to SLURM"
    states = cluster.run("squeue", "-h", "-t", "all", "-o", "%T").stdout.split()
    assert states and set(states) == {"COMPLETED"}, states

    local_tables = sorted(p.name for p in (local / "data" / "processed" / "results").glob("*.csv"))
    remote_tables = sorted(p.name for p in (remote / "data" / "processed" / "results").glob("*.csv"))
    assert local_tables and local_tables == remote_tables
    differ = [
        name
        for name in local_tables
        if (local / "data" / "processed" / "results" / name).read_bytes()
        != (remote / "data" / "processed" / "results" / name).read_bytes()
    ]
    assert not differ, f"result tables differ between the local and the SLURM run: {differ}"

    rerun = snakemake(remote, "--cores", "2", "-n")
    assert "Nothing to be done" in rerun.stdout + rerun.stderr
