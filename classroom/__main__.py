"""``python -m classroom up|down|release|grade|remove-accounts`` — the class's hub on this machine.

    up --roster R [--port 8000] [--mem 1G] [--cpus 1]   accounts, edition, JupyterHub (make hub)
    down                                                 stop everything by PID      (make hub-stop)
    release [--from DIR]                                 publish an update of the edition
    grade ASSIGNMENT                                     collect → grade → return    (make hub-grade)
    remove-accounts --roster R                           delete the course's accounts and homes

The hub's folder is $MLCOURSE_HUB_DIR (default /srv/mlcourse-hub); see classroom/README.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import accounts, collect, edition, hub


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m classroom", description=__doc__.split("\n\n")[0])
    p.add_argument("--hub-dir", type=Path, default=hub.HUB_DIR, help="the hub's folder (default %(default)s)")
    sub = p.add_subparsers(dest="command", required=True)
    u = sub.add_parser("up", help="start the hub for a roster")
    u.add_argument("--roster", type=Path, required=True, help="CSV with a username (or student/id) column")
    u.add_argument("--port", type=int, default=8000)
    u.add_argument("--mem", default="1G", help="memory limit of each student's server (default 1G)")
    u.add_argument("--cpus", type=float, default=1.0, help="CPU limit of each student's server (default 1)")
    u.add_argument("--edition", type=Path, default=None, help="folder to publish (default: notebooks/)")
    u.add_argument("--server-arg", action="append", default=[], help=argparse.SUPPRESS)
    sub.add_parser("down", help="stop the hub and every server by PID")
    r = sub.add_parser("release", help="publish (an update of) the edition")
    r.add_argument("--from", dest="source", type=Path, default=None, help="folder to publish (default: notebooks/)")
    r.add_argument("--message", default="Update of the student edition")
    g = sub.add_parser("grade", help="collect an assignment from every home, grade it, return the feedback")
    g.add_argument("assignment")
    g.add_argument("grading_args", nargs=argparse.REMAINDER, help="options passed on to python -m grading")
    x = sub.add_parser("remove-accounts", help="delete the roster's course accounts and their homes")
    x.add_argument("--roster", type=Path, required=True)
    args = p.parse_args(argv)
    paths = hub.Paths(args.hub_dir.resolve())
    try:
        if args.command == "up":
            info = hub.up(args.roster, paths, port=args.port, mem=args.mem, cpus=args.cpus, source=args.edition,
                          server_args=args.server_arg)
            print(f"JupyterHub is up at {info['url']} (pid {info['pid']}; {info['up_seconds']} s, of which JupyterHub "
                  f"{info['jupyterhub_seconds']} s) for "
                  f"{len(info['students'])} students; new passwords in {info['passwords']}; "
                  f"edition {info['edition_url']} @ {info['commit'][:8]}. Stop it with `make hub-stop`.\n"
                  f"The students' nbgitpuller link (first copy, then updates): {info['link']}")
        elif args.command == "down":
            stopped = hub.down(paths)
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        elif args.command == "release":
            source = args.source or hub.default_edition(paths)
            print(f"released {edition.publish(source, paths.repo, args.message)[:8]} to {edition.url(paths.repo)}; "
                  "students get it from the nbgitpuller link (or their next start)")
        elif args.command == "grade":
            settings = json.loads(paths.settings.read_text())
            students = accounts.students(settings["students"])
            summary = collect.grade_class(students, args.assignment, paths.private, settings["edition_dir"],
                                          args.grading_args)
            for line in summary["skipped"]:
                print(f"skipped: {line}", file=sys.stderr)
            print(json.dumps(summary, indent=1))
            return 1 if summary["failed"] else 0
        elif args.command == "remove-accounts":
            print("removed: " + ", ".join(accounts.remove(accounts.read_roster(args.roster))))
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
