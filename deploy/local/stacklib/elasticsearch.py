"""Elasticsearch in the local stack: one node (single-node discovery), or a cluster of `stack.es_nodes`.

Every node is a process of the same unpacked integ-test-zip with its own directory under the run
directory (config, data, logs, tmp): `.run/es` for the single node, `.run/es-1`… for a cluster.
Node i (1-based) serves HTTP on es.url's port + i - 1 and transport on stack.es_transport_port
(default: HTTP port + 100) + i - 1, all on 127.0.0.1; the nodes find each other through
`discovery.seed_hosts` and form the cluster through `cluster.initial_master_nodes` on their first
start only (a node whose data holds a cluster state already belongs to it). Each node is a service
of its own (`elasticsearch-1`…), so `status` shows each and `stop elasticsearch-2` stops one.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from services.settings import Settings, process_environment
from stacklib import install, procs
from stacklib.procs import StackError
from stacklib.services import ROOT, Service

SINGLE_CLUSTER = "wenyuan-local"
CLUSTER = "wenyuan-cluster"


@dataclass
class Elasticsearch(Service):
    node: int = 1  # 1-based
    nodes: int = 1

    def install(self) -> None:
        self.home = install.elasticsearch(self.settings.stack.cache_dir)
        self.java = install.java_home(self.settings.stack.java_home, process_environment())

    @property
    def es_dir(self) -> Path:
        return self.run / ("es" if self.nodes == 1 else f"es-{self.node}")

    @property
    def cluster_name(self) -> str:
        return SINGLE_CLUSTER if self.nodes == 1 else CLUSTER

    @property
    def node_name(self) -> str:
        return f"wenyuan-es-{self.node}"

    @property
    def transport_port(self) -> int:
        first = self.settings.stack.es_transport_port or self.settings.es.port + 100
        return first + self.node - 1

    @property
    def snapshots(self) -> Path:
        return self.run / "snapshots"

    @property
    def log(self) -> Path:  # daemonized: the server writes its own log, named after the cluster
        return self.es_dir / "logs" / f"{self.cluster_name}.log"

    def config_text(self, es_dir: Path, *, first_start: bool) -> str:
        lines = [f"cluster.name: {self.cluster_name}", f"node.name: {self.node_name}", "network.host: 127.0.0.1",
                 f"http.port: {self.port}", f"transport.port: {self.transport_port}"]
        if self.nodes == 1:
            lines.append("discovery.type: single-node")
        else:
            first = self.transport_port - self.node + 1
            seeds = ", ".join(f'"127.0.0.1:{first + i}"' for i in range(self.nodes))
            lines.append(f"discovery.seed_hosts: [{seeds}]")
            if first_start:  # bootstrapping only: a formed cluster keeps its own voting configuration
                masters = ", ".join(f"wenyuan-es-{i + 1}" for i in range(self.nodes))
                lines.append(f"cluster.initial_master_nodes: [{masters}]")
        lines += ["xpack.security.enabled: false", f"path.data: {es_dir / 'data'}", f"path.logs: {es_dir / 'logs'}",
                  "cluster.routing.allocation.disk.threshold_enabled: false",
                  "action.destructive_requires_name: false",
                  # snapshots (`wenyuan admin backup`): a filesystem repository shared by every node of this machine
                  f"path.repo: {self.snapshots.resolve()}"]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        self.install()
        home, es_dir, prefix = self._layout()
        config = es_dir / "config"
        if not (config / "jvm.options").exists():
            shutil.copytree(home / "config", config, dirs_exist_ok=True)
        first_start = not (es_dir / "data" / "_state").exists()
        (config / "elasticsearch.yml").write_text(self.config_text(es_dir, first_start=first_start))
        self.snapshots.mkdir(parents=True, exist_ok=True)
        if prefix:
            subprocess.run(["chown", "-R", self.settings.stack.es_user, str(es_dir), str(self.snapshots.resolve())],
                           check=True)
        own_pid = es_dir / "es.pid"
        own_pid.unlink(missing_ok=True)
        heap = self.settings.stack.es_heap
        env = dict(process_environment(), ES_JAVA_HOME=str(self.java), ES_PATH_CONF=str(config),
                   ES_TMPDIR=str(es_dir / "tmp"), ES_JAVA_OPTS=f"-Xms{heap} -Xmx{heap}")
        env.pop("JAVA_HOME", None)
        start_log = self.run / "logs" / f"{self.name}-start.log"
        start_log.parent.mkdir(parents=True, exist_ok=True)
        with start_log.open("ab") as out:
            # -d: the launcher returns once the server runs and writes the server's pid to own_pid.
            self._launcher = subprocess.Popen(
                [*prefix, str(home / "bin" / "elasticsearch"), "-d", "-p", str(own_pid)],
                env=env, cwd=es_dir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        self._own_pid, self._start_log = own_pid, start_log

    def launching(self) -> bool:
        launcher = getattr(self, "_launcher", None)
        if launcher is None:
            return bool(self.pids())
        code = launcher.poll()
        if code not in (None, 0):
            raise StackError(f"Elasticsearch ({self.name}) failed to start (exit {code}). Last lines of "
                             f"{self._start_log}:\n{procs.tail(self._start_log)}\n--- {self.log}:\n"
                             f"{procs.tail(self.log)}")
        if self._own_pid.exists() and not self.pids():
            procs.write_pid(self.pid_file, int(self._own_pid.read_text().strip()))
        return True

    def _layout(self) -> tuple[Path, Path, list[str]]:
        """Elasticsearch home, its node directory (config, data, logs, tmp) and the command prefix.

        Elasticsearch refuses to run as root, so as root it runs as a dedicated system user. That
        user must be able to reach the files: when the checkout sits below a directory others
        cannot enter (a 0700 home or temp dir), home and node directory move to
        /var/lib/wenyuan-es/<hash of the run dir>, and the node directory becomes a link to it.
        """
        es_dir = self.es_dir
        if os.geteuid() != 0:
            self._mkdirs(es_dir)
            return self.home, es_dir, []
        user = self.settings.stack.es_user
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
                           check=True)
        prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]
        home = self.home
        self._mkdirs(es_dir)
        subprocess.run(["chown", "-R", user, str(es_dir.resolve())], check=True)
        if not self._reachable(prefix, home, es_dir):
            base = Path("/var/lib/wenyuan-es") / hashlib.sha256(str(self.run.resolve()).encode()).hexdigest()[:12]
            print(f"stack: {user} cannot enter {ROOT}; Elasticsearch runs from {base}", flush=True)
            home = base / home.name
            if not (home / "bin" / "elasticsearch").exists():
                shutil.copytree(self.home, home, symlinks=True, dirs_exist_ok=True)
            node = base / ("node" if self.nodes == 1 else es_dir.name)
            if not es_dir.is_symlink():
                shutil.copytree(es_dir, node, dirs_exist_ok=True)
                shutil.rmtree(es_dir)
                es_dir.symlink_to(node, target_is_directory=True)
            self._mkdirs(node)
            subprocess.run(["chown", "-R", user, str(node)], check=True)
            if not self.snapshots.is_symlink():  # the snapshot repository moves out with the nodes
                (base / "snapshots").mkdir(parents=True, exist_ok=True)
                shutil.rmtree(self.snapshots, ignore_errors=True)
                self.snapshots.symlink_to(base / "snapshots", target_is_directory=True)
            Path("/var/lib/wenyuan-es").chmod(0o755)
            base.chmod(0o755)
            if not self._reachable(prefix, home, es_dir):
                raise StackError(f"user {user} cannot reach {home} or {node}.\nFix: set "
                                 "WENYUAN_STACK__RUN_DIR and WENYUAN_STACK__CACHE_DIR to directories it can enter.")
        return home, es_dir.resolve(), prefix

    @staticmethod
    def _mkdirs(es_dir: Path) -> None:
        for sub in ("data", "logs", "tmp", "config"):
            (es_dir / sub).mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _reachable(prefix: list[str], home: Path, es_dir: Path) -> bool:
        probe = [*prefix, "test", "-x", str(home / "bin" / "elasticsearch"), "-a", "-w", str(es_dir.resolve() / "data")]
        return subprocess.run(probe, capture_output=True).returncode == 0

    def ready(self) -> bool:
        """The single node: its cluster green. A cluster's node: it answers, and the cluster holds every node
        and is green or yellow (replicas may still be recovering)."""
        self.launching()
        if self.nodes == 1:
            resp = self._get("/_cluster/health", params={"wait_for_status": "green", "timeout": "1s"})
            return resp is not None and resp.status_code == 200 and resp.json().get("status") == "green"
        resp = self._get("/_cluster/health", params={"wait_for_nodes": str(self.nodes), "wait_for_status": "yellow",
                                                     "timeout": "1s"})
        if resp is None or resp.status_code != 200:
            return False
        health = resp.json()
        return health.get("number_of_nodes") == self.nodes and health.get("status") in ("green", "yellow")

    def version(self) -> str:
        resp = self._get("/_nodes/_local", params={"filter_path": "nodes.*.version"})
        if resp is None or resp.status_code != 200:
            return install.versions()["ELASTICSEARCH_VERSION"] + " (pinned)"
        return str(next(iter(resp.json()["nodes"].values()))["version"])


def nodes(settings: Settings) -> list[Elasticsearch]:
    """The Elasticsearch services of the stack: `elasticsearch`, or `elasticsearch-1`… for a cluster."""
    count = settings.stack.es_nodes
    if count == 1:
        return [Elasticsearch("elasticsearch", settings.es.url, settings.es.port, settings)]
    urls = settings.es.node_urls(count)
    return [Elasticsearch(f"elasticsearch-{i + 1}", url, settings.es.port + i, settings, node=i + 1, nodes=count)
            for i, url in enumerate(urls)]
