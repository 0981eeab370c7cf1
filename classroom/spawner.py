"""JupyterHub's local-process spawner, with each student's server inside its cgroups.

JupyterHub's ``LocalProcessSpawner`` runs the server as the student (its uid and groups)
in the student's home, but only passes ``mem_limit``/``cpu_limit`` on as environment
variables. This spawner makes them real: before the server starts it creates the student's
cgroups with those limits (``classroom.limits``), the server's process joins them between
fork and exec, while still root, and everything it starts (kernels, terminals) inherits
them. On stop, whatever is left in the groups is killed by PID and the groups removed.
"""
from __future__ import annotations

from jupyterhub.spawner import LocalProcessSpawner

from . import limits


class LimitedSpawner(LocalProcessSpawner):
    _group: limits.Group | None = None

    async def start(self):
        mem = int(self.mem_limit or 0) or 2 << 30
        cpus = float(self.cpu_limit or 0) or 1.0
        self._group = limits.create(self.user.name, mem, cpus)
        if self._group.version is None:
            self.log.warning("no CPU/memory limit for %s: %s", self.user.name, self._group.why_not)
        else:
            self.log.info("limits for %s: %d MiB, %.2g CPU, %d processes (cgroup %s)", self.user.name,
                          mem >> 20, cpus, limits.PIDS_MAX, self._group.version)
        return await super().start()

    def make_preexec_fn(self, name):
        drop_privileges = super().make_preexec_fn(name)
        group = self._group

        def preexec() -> None:
            if group is not None and group.version is not None:
                limits.join(group)  # as root, before the uid switch: kernels inherit the group
            drop_privileges()

        return preexec

    async def stop(self, now: bool = False):
        await super().stop(now=now)
        left = limits.remove(self.user.name)
        if left:
            self.log.info("stopped %d process(es) left behind by %s's server: %s", len(left), self.user.name, left)
