"""The one status type: its strings, its order and its exit codes, as every layer uses them."""
import json

import pytest

from verifier.status import Status, combine_exit_codes, exit_code, most_severe, severity


def test_a_status_is_its_string_in_comparisons_json_formatting_and_dict_keys():
    assert Status.VERIFIED == "VERIFIED" and Status.NOT_APPLICABLE == "NOT APPLICABLE"
    assert json.dumps({"status": Status.REFUTED}) == '{"status": "REFUTED"}'
    assert f"{Status.INCONCLUSIVE:<14}|" == "INCONCLUSIVE  |"
    assert {"ERRATUM": 1}[Status.ERRATUM] == 1 and Status("SKIPPED") is Status.SKIPPED


def test_one_order_for_instances_claims_theorems_and_runs():
    order = [Status.INTERNAL_ERROR, Status.SPEC_ERROR, Status.REFUTED, Status.INCONCLUSIVE, Status.UNBOUNDED,
             Status.SKIPPED, Status.ERRATUM, Status.VERIFIED, Status.NOT_APPLICABLE]
    assert sorted(Status, key=severity, reverse=True) == order
    assert most_severe(["VERIFIED", "NOT APPLICABLE"]) == Status.VERIFIED
    assert most_severe(["ERRATUM", "INCONCLUSIVE", "VERIFIED"]) == Status.INCONCLUSIVE
    assert most_severe([], default=Status.NOT_APPLICABLE) == Status.NOT_APPLICABLE
    # a status this module does not know yet settles nothing: after INCONCLUSIVE, before ERRATUM
    assert most_severe(["ERRATUM", "NEW_KIND"]) == "NEW_KIND"
    assert most_severe(["INCONCLUSIVE", "NEW_KIND"]) == Status.INCONCLUSIVE


@pytest.mark.parametrize("statuses, code", [
    ([], 0), (["VERIFIED", "NOT APPLICABLE", "ERRATUM", "SKIPPED"], 0), (["VERIFIED", "REFUTED"], 1),
    (["INCONCLUSIVE", "VERIFIED"], 3), (["INCONCLUSIVE", "REFUTED"], 1), (["REFUTED", "SPEC_ERROR"], 2),
    (["SPEC_ERROR", "INTERNAL_ERROR", "REFUTED"], 4), (["UNBOUNDED", "VERIFIED"], 5), (["UNBOUNDED", "INCONCLUSIVE"], 3),
    (["UNBOUNDED", "REFUTED"], 1),
])
def test_exit_code_is_the_most_severe_status_s(statuses, code):
    assert exit_code(statuses) == code


def test_combined_exit_codes_rank_as_their_statuses_and_an_unknown_code_first():
    assert combine_exit_codes([0, 3, 1]) == 1 and combine_exit_codes([0, 3]) == 3
    assert combine_exit_codes([1, 2]) == 2 and combine_exit_codes([]) == 0
    assert combine_exit_codes([2, 4, 1]) == 4 and combine_exit_codes([0, 7, 4]) == 7
    assert combine_exit_codes([0, 5]) == 5 and combine_exit_codes([5, 3]) == 3
