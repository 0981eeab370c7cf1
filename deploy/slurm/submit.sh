#!/usr/bin/env bash
# Grade a class on Slurm: one array task per student, then the merge once all tasks ended.
# Usage: MLCOURSE_REPO=… SUBMISSIONS=… PARTS=… OUT=… [GRADING_OPTIONS=…] [LOGS=…] bash deploy/slurm/submit.sh
# Waits for the merge (sbatch --wait) and exits with its status.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "${MLCOURSE_REPO:?set MLCOURSE_REPO to the repository}"
export PATH="$MLCOURSE_REPO/.venv/bin:$PATH"
n=$(python -m grading job "${SUBMISSIONS:?}" --list | wc -l)
[ "$n" -gt 0 ] || { echo "no submissions in $SUBMISSIONS" >&2; exit 2; }
logs="${LOGS:-$(dirname "${PARTS:?}")/slurm-logs}"   # the tasks' output, next to the parts
mkdir -p "$logs"
array=$(sbatch --parsable --export=ALL --array=0-$((n - 1)) --output="$logs/grade-%A_%a.out" "$here/grade.sbatch")
echo "grading $n students: array job $array (logs in $logs)" >&2
# afterany: the merge runs even when a task failed, and then names its student.
sbatch --wait --export=ALL --dependency=afterany:"${array%%;*}" --output="$logs/merge-%j.out" "$here/merge.sbatch"
