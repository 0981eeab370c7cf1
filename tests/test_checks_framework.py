"""The inline-feedback framework names the symptom instead of dumping a traceback."""
from __future__ import annotations

import numpy as np

from mlcourse.checks import Case, Check, check, evaluate


def _cases(rng):
    x, W, d = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    return [Case(args=(d, x, W), batch=5, label="a batch of 5")]


def _ref(d, x, W):
    return d @ W.T, x.T @ d, d.sum(axis=0)


CHK = Check(name="demo_backward", chapter="00", function="demo_backward", description="dx, dW, db",
            cases=_cases, reference=_ref, outputs=("dx", "grad_W", "grad_b"))


def msg(fn) -> str:
    r = evaluate(CHK, fn)
    assert not r.passed
    return r.message


def test_reference_passes_with_public_wording():
    r = evaluate(CHK, _ref)
    assert r.passed and r.score == 1.0
    assert "public checks passed" in r.message and "all tests passed" not in r.message


def test_transposed_gradient_is_named():
    m = msg(lambda d, x, W: (d @ W.T, d.T @ x, d.sum(0)))
    assert "grad_W has shape (4, 3), expected (3, 4)" in m and "transpose" in m


def test_mean_instead_of_sum_and_missing_batch_sum_are_named():
    assert "mean where a sum is expected" in msg(lambda d, x, W: (d @ W.T, x.T @ d, d.mean(0)))
    assert "sum over the batch axis" in msg(lambda d, x, W: (d @ W.T, x.T @ d, d))


def test_sign_nan_none_and_arity():
    assert "sign flipped" in msg(lambda d, x, W: (-(d @ W.T), x.T @ d, d.sum(0)))
    assert "NaN" in msg(lambda d, x, W: (d @ W.T * np.nan, x.T @ d, d.sum(0)))
    assert "forget `return`" in msg(lambda d, x, W: None)
    assert "returned 2 values, expected 3" in msg(lambda d, x, W: (d @ W.T, x.T @ d))


def test_first_mismatch_and_relative_error_are_reported():
    m = msg(lambda d, x, W: (d @ W.T, x.T @ d + np.linspace(0.5, 1.7, 12).reshape(3, 4) ** 2, d.sum(0)))
    assert "differs at index (0, 0)" in m and "relative error" in m


def test_exception_shows_the_students_own_line_not_a_traceback():
    def student(d, x, W):
        out = d @ W  # wrong operand order
        return out

    m = msg(student)
    assert m.startswith("❌ `demo_backward`: raised ValueError")
    assert "out = d @ W" in m and "Traceback" not in m


def test_not_implemented_and_inputs_are_protected(capsys):
    def stub(d, x, W):
        raise NotImplementedError()

    r = evaluate(CHK, stub)
    assert r.status == "not_implemented" and "not implemented yet" in r.message

    def mutating(d, x, W):
        d *= 0  # modifies its input in place: named, and the reference's copy is not corrupted
        return _ref(d, x, W)

    assert "changed your input `d` in place" in msg(mutating)

    def honest(d, x, W):
        return _ref(d, x, W)

    assert evaluate(CHK, mutating).status == "fail" and evaluate(CHK, honest).passed


def test_unknown_check_name_is_reported(capsys):
    r = check("no_such_check", lambda: None)
    assert not r.passed
    assert "no check called 'no_such_check'" in capsys.readouterr().out


def test_one_evaluation_for_notebook_and_grader():
    """run_check is the loop both use: hidden seeds are counted, the deciding seed is kept."""
    from mlcourse.checks import Status, attempt, run_check

    good = run_check(CHK, lambda case: attempt(CHK, _ref, case.args), seeds=(0, 1, 2))
    assert good.status is Status.PASS and (good.cases, good.hidden) == (1, 2)
    calls = []

    def right_only_on_the_public_seed(d, x, W):
        calls.append(1)
        return _ref(d, x, W) if len(calls) == 1 else (d @ W.T, x.T @ d, -d.sum(0))

    bad = run_check(CHK, lambda case: attempt(CHK, right_only_on_the_public_seed, case.args), seeds=(0, 5))
    assert bad.status is Status.FAIL and bad.judged and bad.seed == 5 and "sign flipped" in bad.detail
    assert bad.message == f"❌ `demo_backward`: {bad.detail}"
    assert str(Status.NOT_IMPLEMENTED) == "not_implemented" == Status.NOT_IMPLEMENTED


def test_a_run_reports_a_problem_the_judge_never_sees():
    def run(fn, args):
        return {"problem": "returned nothing usable"}

    def judge(case, output):
        raise AssertionError("the judge must not be asked")

    chk = Check(name="demo_run", chapter="00", description="d", cases=_cases, run=run, judge=judge)
    assert chk.function == "demo_run"  # function defaults to the check's name
    r = evaluate(chk, lambda *a: None)
    assert r.status == "fail" and r.message == "❌ `demo_run`: returned nothing usable"


def test_as_array_is_compare_arrays_opening():
    from mlcourse.checks.compare import as_array, compare_array

    for got, expected, words in [(None, np.zeros(3), "is None — did you forget to `return` it?"),
                                 ([1, 2], np.float64(1), "expected a single number"),
                                 (np.array(["a"]), np.zeros(1), "is an array of strings, expected numbers")]:
        arr, problem = as_array("x", got, expected)
        assert arr is None and words in problem and compare_array("x", got, expected) == problem
    arr, problem = as_array("x", [1.0, 2.0], np.zeros(2))
    assert problem is None and arr.shape == (2,)
