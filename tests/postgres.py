"""A throw-away PostgreSQL cluster in a temporary folder, started by the test run."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import psycopg


def find_postgres_bin():
    """The newest installed PostgreSQL server binaries, or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4])
    )
    if candidates:
        return os.path.dirname(candidates[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


class PostgresCluster:
    """initdb + pg_ctl in ``folder``, listening on 127.0.0.1:``port``, fsync off for speed.

    initdb refuses to run as root, so as root the cluster runs as the ``postgres`` user.
    """

    def __init__(self, bin_dir, port):
        # Its own folder under /tmp: pytest's temporary folders are private to root, and the
        # postgres user must be able to reach the data directory.
        self.bin_dir, self.port = bin_dir, port
        self.folder = tempfile.mkdtemp(prefix="proofsheet-pg-")
        self.data = os.path.join(self.folder, "data")
        self.run_as = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args):
        command = [os.path.join(self.bin_dir, args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")

    def start(self):
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", self.data, "-l", os.path.join(self.folder, "log"), "-o", options, "-w", "start"
        )
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.dsn("postgres")):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def dsn(self, database):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def url(self, database):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name, template=None):
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            suffix = f" TEMPLATE {template}" if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{suffix}')

    def drop_database(self, name):
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
