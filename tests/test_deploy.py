"""deploy/: every file parses, and every image, command and path it names exists in the repository."""
from __future__ import annotations

import importlib.metadata
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
YAMLS = sorted(DEPLOY.rglob("*.yaml"))
DOCKERFILES = sorted(DEPLOY.glob("images/*/Dockerfile"))
TEXTS = [*YAMLS, *DOCKERFILES, *DEPLOY.glob("slurm/*"), DEPLOY / "README.md"]
# a path inside this repository, as the deploy files write it
REPO_PATH = re.compile(r"(?<![\w/.-])((?:deploy|grading|classroom|mlcourse|tests|data)/[\w./-]*[\w])")


def _containers(doc: dict) -> list[dict]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("containers", [])


def _images() -> dict[str, Path]:
    """Image name (last path part, no tag) → its Dockerfile: mlcourse-student → images/student."""
    return {f"mlcourse-{d.parent.name}": d for d in DOCKERFILES}


def test_every_yaml_parses() -> None:
    assert YAMLS, "no YAML in deploy/"
    for path in YAMLS:
        docs = list(yaml.safe_load_all(path.read_text()))
        assert docs and all(isinstance(d, dict) for d in docs), path


def test_every_repository_path_they_mention_exists() -> None:
    for path in TEXTS:
        for ref in REPO_PATH.findall(path.read_text()):
            assert (ROOT / ref).exists(), f"{path.relative_to(ROOT)} names {ref}, which does not exist"


def test_dockerfiles_copy_only_what_exists() -> None:
    for df in DOCKERFILES:
        for line in df.read_text().splitlines():
            if line.startswith("COPY ") and "--from=" not in line:  # --from: another stage's output
                *sources, _ = shlex.split(line)[1:]
                for src in sources:
                    assert (ROOT / src).exists(), f"{df.relative_to(ROOT)}: COPY {src}: not in the repository"
    student = (DEPLOY / "images" / "student" / "Dockerfile").read_text()
    final = student[student.rindex("\nFROM "):]  # the image's own stage: the edition's wheel, nothing else
    assert re.search(r"^USER 1000$", final, re.M), "the student image must run as a non-root user"
    copies = re.findall(r"^COPY (.*)$", final, re.M)
    assert copies and all(c.startswith("--from=edition /src/") and "solutions" not in c and "grading" not in c
                          for c in copies), copies
    assert "python -m authoring.edition" in student  # the wheel is the student edition's (checked for leaks)
    assert re.search(r"^USER root$", (DEPLOY / "images" / "grader" / "Dockerfile").read_text(), re.M)


def test_images_they_use_are_defined_here() -> None:
    images = _images()
    used = []
    for path in YAMLS:
        for doc in yaml.safe_load_all(path.read_text()):
            names = [c["image"] for c in _containers(doc)]
            if "singleuser" in doc:
                names.append(doc["singleuser"]["image"]["name"])
            for name in names:
                base = name.rsplit("/", 1)[-1].split(":")[0]
                assert base in images, f"{path.relative_to(ROOT)}: image {name} has no deploy/images/*/Dockerfile"
                used.append(base)
    assert set(used) == set(images)


def _console_scripts_of_hub_extra() -> set[str]:
    """Console scripts of the packages the `hub` extra (installed in the student image) brings."""
    text = (ROOT / "pyproject.toml").read_text()
    extra = re.search(r"^hub = \[(.*?)\]", text, re.M | re.S).group(1)
    dists = {re.match(r"[\w-]+", d.strip().strip('",')).group(0).lower() for d in extra.split("\n") if d.strip()}
    scripts = set()
    for ep in importlib.metadata.entry_points(group="console_scripts"):
        if ep.dist and ep.dist.metadata["Name"].lower() in dists:
            scripts.add(ep.name)
    return scripts


def test_zero_to_jupyterhub_config_uses_commands_the_student_image_has() -> None:
    cfg = yaml.safe_load((DEPLOY / "jupyterhub" / "config.yaml").read_text())
    su = cfg["singleuser"]
    scripts = _console_scripts_of_hub_extra()
    hub_extra = re.search(r"^hub = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.M | re.S).group(1)
    student = (DEPLOY / "images" / "student" / "Dockerfile").read_text()
    for requirement in re.findall(r'"([^"]+)"', hub_extra):  # the image installs the hub extra as pinned
        assert f'"{requirement}"' in student, requirement
    assert su["cmd"] in scripts
    pull = su["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert pull[0] == "gitpuller" and pull[0] in scripts and len(pull) == 4
    assert su["cpu"]["limit"] and su["memory"]["limit"], "per-user limits"
    assert "MLCOURSE_DATA" not in su.get("extraEnv", {})  # the edition's wheel carries the data


@pytest.mark.parametrize("manifest,sub", [("grade-job.yaml", "job"), ("merge-job.yaml", "merge")])
def test_kubernetes_jobs_call_the_grading_commands(manifest: str, sub: str) -> None:
    doc = yaml.safe_load((DEPLOY / "kubernetes" / manifest).read_text())
    (container,) = _containers(doc)
    cmd = container["command"]
    assert cmd[:4] == ["python", "-m", "grading", sub]
    if sub == "job":
        assert doc["spec"]["completionMode"] == "Indexed"
        assert container["securityContext"]["runAsUser"] == 0
    proc = subprocess.run([sys.executable, *cmd[1:4], "--help"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for opt in (c for c in cmd[4:] if c.startswith("--")):
        assert opt in proc.stdout, f"{manifest}: python -m grading {sub} has no option {opt}"


def test_slurm_scripts_call_the_grading_commands() -> None:
    grade = (DEPLOY / "slurm" / "grade.sbatch").read_text()
    merge = (DEPLOY / "slurm" / "merge.sbatch").read_text()
    assert re.search(r"^python -m grading job ", grade, re.M)
    assert re.search(r"^python -m grading merge ", merge, re.M)
    for path in DEPLOY.glob("slurm/*"):
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0, f"{path.name}: bash syntax"
