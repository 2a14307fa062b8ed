"""The services of the local stack: how each starts, when it is ready, what version it runs.

Every server binds 127.0.0.1. State lives under the run directory (.run/ by default):
`pids/` (pid files), `logs/`, `es/` (or `es-1`… for a cluster: stacklib/elasticsearch.py), `s3/`,
`airflow/`, `redis/`.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import secrets
import shutil
import subprocess
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.settings import RedisSettings, Settings, process_environment
from stacklib import install, procs
from stacklib.procs import StackError

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Service(ABC):
    name: str
    url: str
    port: int
    settings: Settings

    @property
    def run(self) -> Path:
        return self.settings.stack.run_dir

    @property
    def pid_file(self) -> Path:
        return self.run / "pids" / f"{self.name}.pid"

    @property
    def log(self) -> Path:
        return self.run / "logs" / f"{self.name}.log"

    def pids(self) -> list[int]:
        pid = procs.live_pid(self.pid_file)
        return [pid] if pid else []

    def install(self) -> None:  # programs are fetched or built here
        return None

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def ready(self) -> bool: ...

    @abstractmethod
    def version(self) -> str: ...

    def stop(self) -> bool:
        return procs.stop(self.pid_file)

    def after_ready(self) -> None:
        return None

    def _get(self, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            return httpx.get(self.url + path, timeout=2.0, **kwargs)
        except httpx.HTTPError:
            return None


class S3Server(Service):
    def install(self) -> None:
        self.binary = install.versitygw(self.settings.stack.cache_dir)

    def start(self) -> None:
        self.install()
        data, meta = self.run / "s3" / "data", self.run / "s3" / "meta"
        data.mkdir(parents=True, exist_ok=True)
        meta.mkdir(parents=True, exist_ok=True)
        s3 = self.settings.s3
        env = dict(process_environment(), ROOT_ACCESS_KEY=s3.access_key,
                   ROOT_SECRET_KEY=s3.secret_key.get_secret_value())  # not on the command line: ps shows it
        # --sidecar keeps object metadata in files, so no user xattrs are needed on the filesystem.
        procs.spawn([str(self.binary), "--port", f"127.0.0.1:{self.port}", "--region", s3.region, "--quiet",
                     "posix", "--sidecar", str(meta), str(data)],
                    env=env, log=self.log, cwd=ROOT, pid_file=self.pid_file)

    def ready(self) -> bool:
        resp = self._get("/")
        return resp is not None  # any S3 answer (403 without credentials) means it serves

    def after_ready(self) -> None:
        from services.storage import ensure_buckets, make_client

        ensure_buckets(make_client(self.settings.s3), self.settings.s3, browser_origin=self.settings.gateway.public_url)

    def version(self) -> str:
        return "versitygw " + install.versions()["VERSITYGW_VERSION"]


class Airflow(Service):
    """One of api-server, scheduler, dag-processor; they share AIRFLOW_HOME under .run/airflow."""

    def __init__(self, name: str, command: list[str], url: str, port: int, settings: Settings) -> None:
        super().__init__(name, url, port, settings)
        self.command = command

    @property
    def home(self) -> Path:
        return self.run / "airflow"

    def environment(self) -> dict[str, str]:
        home, stack = self.home, self.settings.stack
        secrets_file = home / "secrets.json"
        if not secrets_file.exists():
            home.mkdir(parents=True, exist_ok=True)
            keys = {"jwt_secret": secrets.token_urlsafe(48), "api_secret_key": secrets.token_urlsafe(32),
                    "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}
            secrets_file.write_text(json.dumps(keys))
            secrets_file.chmod(0o600)
        keys = json.loads(secrets_file.read_text())
        a = self.settings.airflow
        return dict(
            process_environment(),
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            # LocalExecutor whose workers hold the pipeline's code and text model before forking tasks
            AIRFLOW__CORE__EXECUTOR="services.ingest.executor.WarmLocalExecutor",
            AIRFLOW__CORE__PARALLELISM=str(stack.airflow_parallelism),
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            AIRFLOW__CORE__FERNET_KEY=keys["fernet_key"],
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{a.username}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(a.password_file),
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{a.url}/execution/",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(a.port),
            AIRFLOW__API__SECRET_KEY=keys["api_secret_key"],
            AIRFLOW__API_AUTH__JWT_SECRET=keys["jwt_secret"],
            AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(home / "logs"),
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="15",
            AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="10",
            AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK="False",
        )

    def prepare(self) -> None:
        """Generate the gateway's password once and migrate the metadata database when needed."""
        a = self.settings.airflow
        if not a.password_file.exists():
            a.password_file.parent.mkdir(parents=True, exist_ok=True)
            password = a.password.get_secret_value() if a.password else secrets.token_urlsafe(18)
            a.password_file.write_text(json.dumps({a.username: password}))
            a.password_file.chmod(0o600)
        version = importlib.metadata.version("apache-airflow")
        stamp = self.home / f".migrated-{version}"
        if stamp.exists():
            return
        print("stack: migrating Airflow's metadata database (once per version)", flush=True)
        log = self.run / "logs" / "airflow-db-migrate.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            code = subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
                                  env=self.environment(), stdout=out, stderr=subprocess.STDOUT).returncode
        if code != 0:
            raise StackError(f"`airflow db migrate` failed. Last lines of {log}:\n{procs.tail(log)}")
        stamp.touch()

    def start(self) -> None:
        self.prepare()
        airflow = str(Path(sys.executable).parent / "airflow")
        procs.spawn([airflow, *self.command], env=self.environment(), log=self.log, cwd=ROOT,
                    pid_file=self.pid_file)

    def health(self) -> dict[str, Any] | None:
        resp = self._get("/api/v2/monitor/health")
        return resp.json() if resp is not None and resp.status_code == 200 else None

    def ready(self) -> bool:
        health = self.health()
        if health is None:
            return False
        component = {"airflow-scheduler": "scheduler", "airflow-dag-processor": "dag_processor"}.get(self.name)
        return component is None or (health.get(component) or {}).get("status") == "healthy"

    def version(self) -> str:
        return importlib.metadata.version("apache-airflow")


class Postgres(Service):
    """A PostgreSQL cluster for the test suite: the access store runs against it as it does in production.

    Debian's server binaries, a cluster made with initdb (user `wenyuan`, trust on loopback only),
    run as the `postgres` system user when started as root — it refuses to run as root — with its
    data under /var/lib/wenyuan-pg/<hash of the run dir> (that user may not enter the checkout), or
    under .run/pg otherwise."""

    @property
    def data(self) -> Path:
        if os.geteuid() == 0:
            digest = hashlib.sha256(str(self.run.resolve()).encode()).hexdigest()[:12]
            return Path("/var/lib/wenyuan-pg") / digest
        return self.run / "pg"

    @property
    def prefix(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        user = self.settings.stack.postgres_user
        return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]

    def install(self) -> None:
        if not (install.postgres_bin() / "initdb").exists():
            install.debian_packages()

    def _pg(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, str(install.postgres_bin() / program), *args], capture_output=True,
                              text=True, check=check, cwd="/")

    def start(self) -> None:
        self.install()
        data = self.data
        if os.geteuid() == 0:
            data.parent.mkdir(parents=True, exist_ok=True)
            data.parent.chmod(0o755)
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                subprocess.run(["chown", self.settings.stack.postgres_user, str(data)], check=True)
            data.chmod(0o700)
            self._pg("initdb", "-D", str(data), "-U", "wenyuan", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        log = data / "server.log"  # written by the server user; `logs postgres` reads it
        started = self._pg("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-o",
                           f"-h 127.0.0.1 -p {self.port} -k {data}", "start", check=False)
        if started.returncode != 0:
            raise StackError(f"PostgreSQL failed to start: {started.stderr or started.stdout}\n{procs.tail(log)}")
        procs.write_pid(self.pid_file, int((data / "postmaster.pid").read_text().split()[0]))

    @property
    def log(self) -> Path:
        return self.data / "server.log"

    def stop(self) -> bool:
        if not self.pids():
            return False
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        self.pid_file.unlink(missing_ok=True)
        return True

    def ready(self) -> bool:
        return self._pg("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-q", check=False).returncode == 0

    def after_ready(self) -> None:
        exists = self._pg("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "wenyuan", "-d", "postgres",
                          "-tAc", "SELECT 1 FROM pg_database WHERE datname = 'wenyuan_test'")
        if exists.stdout.strip() != "1":
            self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "wenyuan", "wenyuan_test")

    def version(self) -> str:
        out = self._pg("postgres", "--version", check=False).stdout.split()  # postgres (PostgreSQL) 15.18 (Debian …)
        return out[2] if len(out) > 2 else install.POSTGRES_MAJOR


class Redis(Service):
    """Debian's redis-server, run as the invoking user on 127.0.0.1: the gateway workers' shared rate-limit
    counters and cache invalidations. Nothing in it outlives a restart that matters (windows of a minute),
    so it keeps no snapshot or append-only file; its working directory is .run/redis."""

    def install(self) -> None:
        if not Path(install.REDIS_SERVER).exists():
            install.debian_packages()

    def start(self) -> None:
        self.install()
        work = self.run / "redis"
        work.mkdir(parents=True, exist_ok=True)
        # --save "" and --appendonly no: no persistence; allkeys-lru bounds its memory whatever is stored.
        procs.spawn([install.REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--protected-mode", "yes",
                     "--save", "", "--appendonly", "no", "--dir", str(work), "--daemonize", "no",
                     "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru", "--logfile", ""],
                    env=process_environment(), log=self.log, cwd=work, pid_file=self.pid_file)

    def _info(self) -> dict[str, Any] | None:
        import redis

        try:
            with redis.Redis.from_url(self.url, socket_timeout=2.0, socket_connect_timeout=2.0) as client:
                info: dict[str, Any] = client.info("server")
                return info
        except redis.RedisError:
            return None

    def ready(self) -> bool:
        return self._info() is not None

    def version(self) -> str:
        info = self._info()
        return str(info["redis_version"]) if info else "?"


class Gateway(Service):
    """uvicorn with `gateway.workers` worker processes (one per core by default) under one supervisor: the
    pid file holds the supervisor, whose process group holds the workers, so `down` stops them all."""

    def install(self) -> None:
        install.web_ui(self.settings.stack.cache_dir)

    def start(self) -> None:
        from services.access.db import upgrade  # the access database at the head revision before serving

        upgrade(self.settings.db)
        g = self.settings.gateway
        uvicorn = str(Path(sys.executable).parent / "uvicorn")
        procs.spawn([uvicorn, "services.gateway.app:create_app", "--factory", "--host", g.host,
                     "--port", str(g.port), "--workers", str(g.worker_processes), "--no-access-log"],
                    env=process_environment() | {"PROMETHEUS_MULTIPROC_DIR": str(self.fresh_metrics_dir())},
                    log=self.log, cwd=ROOT, pid_file=self.pid_file)

    def fresh_metrics_dir(self) -> Path:
        """prometheus_client's multiprocess directory of the workers (services/gateway/metrics.py), emptied at
        each start: the counts of a gateway start from zero, as Prometheus expects of a restarted target."""
        directory = self.settings.stack.run_dir / "gateway-metrics"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        return directory

    def pids(self) -> list[int]:
        supervisor = procs.live_pid(self.pid_file)
        return [supervisor, *self._children(supervisor)] if supervisor else []

    @staticmethod
    def _children(parent: int) -> list[int]:
        """The worker processes the supervisor started (multiprocessing's spawn; not its resource tracker)."""
        found = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                command = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == parent and fields[0] != "Z" and b"spawn_main" in command:
                found.append(int(proc.name))
        return sorted(found)

    def ready(self) -> bool:
        resp = self._get("/healthz")
        return resp is not None and resp.status_code == 200

    def version(self) -> str:
        resp = self._get("/healthz")
        return str(resp.json().get("version")) if resp is not None and resp.status_code == 200 else "?"


def all_services(settings: Settings) -> list[Service]:
    from stacklib.elasticsearch import nodes  # it builds on Service, defined here

    a = settings.airflow
    return [
        *nodes(settings),
        S3Server("s3", settings.s3.url, settings.s3.port, settings),
        Airflow("airflow-api-server", ["api-server", "--host", "127.0.0.1", "--port", str(a.port)],
                a.url, a.port, settings),
        Airflow("airflow-scheduler", ["scheduler"], a.url, 0, settings),
        Airflow("airflow-dag-processor", ["dag-processor"], a.url, 0, settings),
        Postgres("postgres", f"postgresql://127.0.0.1:{settings.stack.postgres_port}", settings.stack.postgres_port,
                 settings),
        Redis("redis", settings.redis.url or RedisSettings().url or "", settings.redis.port, settings),
        Gateway("gateway", settings.gateway.public_url, settings.gateway.port, settings),
    ]
