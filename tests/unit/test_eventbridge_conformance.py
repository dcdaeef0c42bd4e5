"""EventBridge conformance: pattern matching and refusal, case by case, against AWS's own sources.

Every group names where its facts come from; the cases are written here, not copied:

* AWS docs: "Content filtering in Amazon EventBridge event patterns", "Arrays in Amazon EventBridge
  event patterns", "Matching null values and empty strings in Amazon EventBridge event patterns".
* aws/event-ruler (the engine EventBridge runs), at commit 337e8d9: README.md, and under
  src/test/software/amazon/event/ruler/: RulerTest.java, JsonRuleCompilerTest.java; the behaviour of
  src/main/.../ByteMachine.java (anything-but), Event.java (flattening, array membership),
  GenericMachine.java (dots in names), ComparableNumber.java (numbers), EqualsIgnoreCaseParser.java.

Where the docs and the engine differ, the docs win and the case says so. Only one such difference
stays unresolved: older docs limit numeric matching to +-1e9 (later +-5e9) with six decimals, while
event-ruler compares any double since 2024 (ComparableNumber, "full range of float64"); we follow
the engine, as refusing a bound such as 5e9 (a 5 GB object) would block valid rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from gluetrigger.core.patterns import explain_mismatch, matches, validate_pattern

# The event of event-ruler's README ("Ruler by Example") and of the AWS content-filtering docs.
README_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:012345679012:instance/i-000000aaaaaa00000"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
    },
}

# RulerTest.JSON_WITH_COMPLEX_ARRAYS: arrays of arrays of objects.
EMPLOYEES: dict[str, Any] = {
    "employees": [
        [
            {"firstName": "John", "lastName": "Doe", "ids": [1234, 1000, 9999]},
            {"firstName": "Anna", "lastName": "Smith"},
        ],
        [{"firstName": "Peter", "lastName": "Jones", "ids": []}],
    ]
}

# The AWS null-values page's event.
NULLS: dict[str, Any] = {"detail": {"eventVersion": "", "responseElements": None}}


def case(pattern: dict[str, Any], event: dict[str, Any], expected: bool, name: str) -> Any:
    return pytest.param(pattern, event, expected, id=name)


# --- null values and missing fields against anything-but and exists ----------------------------
# Sources: AWS "Matching null values and empty strings"; event-ruler ByteMachine.doTransitionOn (an
# anything-but matches every value it does not exclude, null included: the event's null is the
# JSON text `null`, never equal to a quoted string); RulerTest.WHEN_WeTryToMatchExistsRules.
NULL_AND_MISSING = [
    case({"detail": {"eventVersion": [""]}}, NULLS, True, "docs-null-page-empty-string"),
    case({"detail": {"responseElements": [None]}}, NULLS, True, "docs-null-page-null"),
    case({"detail": {"responseElements": [""]}}, NULLS, False, "docs-null-is-not-empty-string"),
    case({"detail": {"eventVersion": [None]}}, NULLS, False, "docs-empty-string-is-not-null"),
    case({"detail": {"responseElements": [{"anything-but": "x"}]}}, NULLS, True, "anything-but-string-vs-null"),
    case({"detail": {"responseElements": [{"anything-but": [1, 2]}]}}, NULLS, True, "anything-but-numbers-vs-null"),
    case(
        {"detail": {"responseElements": [{"anything-but": {"prefix": "n"}}]}},
        NULLS,
        True,
        "anything-but-prefix-vs-null-is-no-string",
    ),
    case({"detail": {"missing": [{"anything-but": "x"}]}}, NULLS, False, "anything-but-needs-a-value"),
    case({"detail": {"missing": [{"anything-but": {"suffix": "x"}}]}}, NULLS, False, "anything-but-suffix-missing"),
    case({"detail": {"responseElements": [{"exists": True}]}}, NULLS, True, "exists-true-null-is-present"),
    case({"detail": {"responseElements": [{"exists": False}]}}, NULLS, False, "exists-false-null-is-present"),
    case({"detail": {"eventVersion": [{"exists": True}]}}, NULLS, True, "exists-true-empty-string"),
    case({"detail": {"missing": [None]}}, NULLS, False, "null-never-matches-missing"),
    case({"detail": {"missing": [{"exists": False}]}}, NULLS, True, "exists-false-missing"),
    case({"detail": {"missing": [{"exists": False}, None]}}, NULLS, True, "exists-false-or-null-missing"),
    case({"a": [{"exists": True}]}, {"a": 1}, True, "ruler-exists-1/1"),
    case({"b": [{"exists": False}]}, {"a": 1}, True, "ruler-exists-2/1"),
    case({"x": [{"exists": True}]}, {"a": 1}, False, "ruler-exists-3/1"),
    case({"b": [{"exists": False}]}, {"b": 2}, False, "ruler-exists-2/2"),
    # Docs, "Exists matching": only leaves exist; an object under the name does not.
    case({"detail": {"c-count": [{"exists": False}]}}, {"detail": {"c-count": {"c1": 100}}}, True, "docs-exists-leaf"),
    case({"detail": {"c-count": [{"exists": True}]}}, {"detail": {"c-count": {"c1": 100}}}, False, "docs-exists-obj"),
]

# --- anything-but with lists, prefix/suffix/wildcard/equals-ignore-case ---------------------------
# Sources: event-ruler README "Anything-but matching" (prefix and suffix lists, equals-ignore-case
# and wildcard lists); RulerTest.WHEN_WeTryAnythingButRules_THEN_Theywork (a string passes a numeric
# anything-but: "b": "444" against [111, 222, 333]); AWS content-filtering docs, "Anything-but".
ANYTHING_BUT = [
    case({"detail": {"state": [{"anything-but": "initializing"}]}}, README_EVENT, True, "docs-string"),
    case({"detail": {"x-limit": [{"anything-but": 123}]}}, README_EVENT, True, "docs-number"),
    case({"detail": {"x-limit": [{"anything-but": [100, 200, 301.8]}]}}, README_EVENT, False, "number-list-hit"),
    case({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}, README_EVENT, True, "docs-list"),
    case({"b": [{"anything-but": [111, 222, 333]}]}, {"b": "444"}, True, "ruler-numbers-vs-string"),
    case({"b": [{"anything-but": [111, 222, 333]}]}, {"b": 111}, False, "ruler-numbers-hit"),
    case({"b": [{"anything-but": [111]}]}, {"b": 111.0}, False, "numbers-compare-as-numbers"),
    case({"c": [{"anything-but": "zdd"}]}, {"c": 5}, True, "string-vs-number"),
    case({"c": [{"anything-but": "true"}]}, {"c": True}, True, "string-vs-boolean"),
    case({"w": [{"anything-but": {"prefix": "zax"}}]}, {"w": "zaxonie"}, False, "ruler-prefix-hit"),
    case({"w": [{"anything-but": {"prefix": "zax"}}]}, {"w": "xaz"}, True, "ruler-prefix-miss"),
    case({"s": [{"anything-but": {"prefix": ["init", "error"]}}]}, {"s": "errored"}, False, "prefix-list-hit"),
    case({"s": [{"anything-but": {"prefix": ["init", "error"]}}]}, {"s": "running"}, True, "prefix-list-miss"),
    case({"n": [{"anything-but": {"suffix": "ing"}}]}, {"n": "matching"}, False, "ruler-suffix-hit"),
    case({"i": [{"anything-but": {"suffix": ["1234", "6789"]}}]}, {"i": "i-6789"}, False, "suffix-list-hit"),
    case({"i": [{"anything-but": {"suffix": ["1234", "6789"]}}]}, {"i": "i-5555"}, True, "suffix-list-miss"),
    case({"i": [{"anything-but": {"suffix": "5"}}]}, {"i": 5}, True, "suffix-vs-number-is-no-string"),
    case({"o": [{"anything-but": {"equals-ignore-case": "CamelCase"}}]}, {"o": "camelcase"}, False, "ruler-ic-hit"),
    case({"p": [{"anything-but": {"equals-ignore-case": ["CamelCase", "AbC"]}}]}, {"p": "abc"}, False, "ic-list-hit"),
    case({"p": [{"anything-but": {"equals-ignore-case": ["CamelCase", "AbC"]}}]}, {"p": "abd"}, True, "ic-list-miss"),
    case({"f": [{"anything-but": {"wildcard": ["*/bin/*.jar", "*.class"]}}]}, {"f": "/a/bin/x.jar"}, False, "wc-hit"),
    case({"f": [{"anything-but": {"wildcard": ["*/bin/*.jar", "*.class"]}}]}, {"f": "/a/lib/x.jar"}, True, "wc-miss"),
    case({"f": [{"anything-but": {"wildcard": "*"}}]}, {"f": 7}, True, "wildcard-star-vs-number"),
    case({"f": [{"anything-but": {"wildcard": "*"}}]}, {"f": ""}, False, "wildcard-star-vs-empty-string"),
    # Docs, "Arrays": an array matches when one of its values does.
    case({"t": [{"anything-but": ["a", "b"]}]}, {"t": ["a", "c"]}, True, "array-one-value-passes"),
    case({"t": [{"anything-but": ["a", "b"]}]}, {"t": ["a", "b"]}, False, "array-all-excluded"),
]

# --- string operators against numbers and other types --------------------------------------------
# Sources: event-ruler README ("Prefix matches only work on string-valued fields", and the same for
# suffix, equals-ignore-case and wildcard; numeric "only work with values that are JSON numbers");
# RulerTest.WHEN_WeTryReallySimpleRules (true is not 1 nor "X"); the engine compares a pattern's
# string with quotes, so no number, boolean or null can match a string operator.
TYPES = [
    case({"a": [{"prefix": "5"}]}, {"a": 55}, False, "prefix-vs-number"),
    case({"a": [{"prefix": ""}]}, {"a": 5}, False, "empty-prefix-vs-number"),
    case({"a": [{"prefix": ""}]}, {"a": None}, False, "empty-prefix-vs-null"),
    case({"a": [{"prefix": ""}]}, {"a": ""}, True, "empty-prefix-vs-empty-string"),
    case({"a": [{"suffix": "e"}]}, {"a": True}, False, "suffix-vs-true"),
    case({"a": [{"equals-ignore-case": "TRUE"}]}, {"a": True}, False, "ignore-case-vs-true"),
    case({"a": [{"equals-ignore-case": "5"}]}, {"a": 5}, False, "ignore-case-vs-number"),
    case({"a": [{"wildcard": "*"}]}, {"a": 5}, False, "wildcard-vs-number"),
    case({"a": [{"wildcard": "*"}]}, {"a": None}, False, "wildcard-vs-null"),
    case({"a": [{"prefix": {"equals-ignore-case": "NU"}}]}, {"a": None}, False, "prefix-ic-vs-null"),
    case({"a": [{"cidr": "10.0.0.0/8"}]}, {"a": 10}, False, "cidr-vs-number"),
    case({"a": [{"numeric": [">", 0]}]}, {"a": "5"}, False, "numeric-vs-string"),
    case({"a": [1]}, {"a": True}, False, "ruler-simple-4/1"),
    case({"x": ["X"]}, {"x": True}, False, "ruler-simple-4/3"),
    case({"a": ["true"]}, {"a": True}, False, "string-true-vs-true"),
    case({"a": [True]}, {"a": "true"}, False, "true-vs-string-true"),
    case({"a": [None]}, {"a": "null"}, False, "null-vs-string-null"),
    # RulerTest.WHEN_WeWriteRulesToMatchVariousFieldCombos: "Animated": [false] vs false.
    case({"Image": {"Animated": [False]}}, {"Image": {"Animated": False}}, True, "ruler-false"),
    case({"Image": {"Animated": [True]}}, {"Image": {"Animated": False}}, False, "ruler-true-vs-false"),
]

# --- equals-ignore-case as the engine folds case ---------------------------------------------------
# Sources: RulerTest.WHEN_WeTryEqualsIgnoreCaseRules; EqualsIgnoreCaseParser.java (each pattern
# character stands for its Java lower or upper case, never a case-folded form).
IGNORE_CASE = [
    case({"a": [{"equals-ignore-case": "aBc"}]}, {"a": "ABC"}, True, "ruler-ic-abc"),
    case({"b": [{"equals-ignore-case": "Def"}]}, {"b": "defx"}, False, "ruler-ic-defx"),
    case({"a": [{"equals-ignore-case": "straße"}]}, {"a": "STRASSE"}, True, "sharp-s-upper-is-SS"),
    case({"a": [{"equals-ignore-case": "STRASSE"}]}, {"a": "straße"}, False, "SS-is-not-sharp-s"),
    case({"a": [{"equals-ignore-case": "s"}]}, {"a": "ſ"}, False, "long-s-is-not-s"),
    case({"a": [{"prefix": {"equals-ignore-case": "RuNn"}}]}, {"a": "running"}, True, "ruler-readme-prefix-ic"),
    case({"a": [{"suffix": {"equals-ignore-case": "nInG"}}]}, {"a": "running"}, True, "ruler-readme-suffix-ic"),
    case({"a": [{"suffix": {"equals-ignore-case": "SS"}}]}, {"a": "maß"}, False, "suffix-ic-SS-not-sharp-s"),
]

# --- numbers -----------------------------------------------------------------------------------
# Sources: AWS content-filtering docs, "Numeric matching"; RulerTest
# WHEN_WeWriteRulesToMatchVariousFieldCombos (99.999..100 and 100.00001); JsonRuleCompilerTest
# testBigNumbers (an account number matches itself); ComparableNumber.generate (a number counts
# as a number only if a double holds it exactly).
# The docs' numeric example itself is test_patterns.py's "numeric-docs-example".
NUMBERS = [
    case({"w": [{"numeric": [">=", 99.999, "<=", 100]}]}, {"w": 100}, True, "ruler-closed-range"),
    case({"w": [{"numeric": [">=", 100.00001, "<=", 1001]}]}, {"w": 100}, False, "ruler-precision"),
    case({"h": [{"numeric": [">", 124, "<", 125]}]}, {"h": 125}, False, "ruler-open-top"),
    case({"account": [123456789012]}, {"account": 123456789012}, True, "ruler-big-number"),
    case({"a": [133.3]}, {"a": 133.3}, True, "ruler-variant-number"),
    case({"a": [{"numeric": [">", 120, "<=", 140]}]}, {"a": 133.3}, True, "ruler-variant-range"),
    case({"size": [{"numeric": [">", 5e9]}]}, {"size": 6_000_000_000}, True, "beyond-old-5e9-limit"),
    case({"a": [{"numeric": [">", 0]}]}, {"a": 2**60}, False, "no-double-holds-it"),
    case({"a": [2**60]}, {"a": 2**60}, True, "no-double-holds-it-text-equal"),
    case({"a": [2**60]}, {"a": float(2**60)}, False, "no-double-holds-it-text-differs"),
    case({"a": [5]}, {"a": 5.0}, True, "5-equals-5.0"),
]

# --- field names containing dots -------------------------------------------------------------------
# Source: event-ruler README, "Caveat: Compiled rules and JSON keys with dots" (both rules compile to
# one, and each matches both events); GenericMachine.isFieldStepUsed; RulerTest
# WHEN_RulesFromReadmeAreTried ("c.count" fields inside detail).
NESTED = {"detail": {"state": {"status": "running"}}}
DOTTED = {"detail": {"state.status": "running"}}
DOTS = [
    case({"detail": {"state": {"status": ["running"]}}}, NESTED, True, "readme-nested-rule-nested-event"),
    case({"detail": {"state": {"status": ["running"]}}}, DOTTED, True, "readme-nested-rule-dotted-event"),
    case({"detail": {"state.status": ["running"]}}, NESTED, True, "readme-dotted-rule-nested-event"),
    case({"detail": {"state.status": ["running"]}}, DOTTED, True, "readme-dotted-rule-dotted-event"),
    case({"detail.state.status": ["running"]}, {"detail.state": {"status": "running"}}, True, "split-elsewhere"),
    case({"detail": {"c.count": [{"numeric": [">", 0, "<=", 5]}]}}, {"detail": {"c.count": 5}}, True, "ruler-c.count"),
    case({"a.b": ["y"]}, {"a.b": "x", "a": {"b": "y"}}, True, "both-spellings-are-values-of-one-field"),
    case({"a.b": [{"exists": False}]}, {"a": {"b": "x"}}, False, "exists-false-sees-nested"),
    case({"a": {"b": [{"exists": False}]}}, {"a.b": "x"}, False, "exists-false-sees-dotted"),
]

# --- arrays at any level ----------------------------------------------------------------------------
# Sources: AWS "Arrays in Amazon EventBridge event patterns" (non-empty intersection); event-ruler
# README "JSON Array Matching" (fields from different elements of one array never combine, at any
# depth); RulerTest.WHEN_JSONContainsArrays_THEN_RulerNoCompileMatchesWork; Event.java (a scalar in an
# array is one more value of its field).
RESOURCES = {"resources": ["arn:aws:autoscaling:us-east-1:1:autoScalingGroup:x", "arn:aws:ec2:us-east-1:1:i-b1"]}
ARRAYS = [
    case({"resources": ["arn:aws:ec2:us-east-1:1:i-b1", "arn:other"]}, RESOURCES, True, "docs-intersection"),
    case({"resources": ["arn:other"]}, RESOURCES, False, "docs-no-intersection"),
    case({"source": ["b"]}, {"source": ["a", "b"]}, True, "top-level-array"),
    case({"source": ["b"]}, {"source": [["a"], ["b"]]}, True, "top-level-nested-arrays"),
    case({"records": {"a": [2]}}, {"records": [{"a": 1}, {"a": 2}]}, True, "top-level-array-of-objects"),
    case({"employees": {"firstName": ["Anna"]}}, EMPLOYEES, True, "ruler-anna"),
    case({"employees": {"firstName": ["John"], "ids": [1000]}}, EMPLOYEES, True, "ruler-john-1000"),
    case({"employees": {"firstName": ["Anna"], "ids": [{"exists": False}]}}, EMPLOYEES, True, "ruler-anna-no-ids"),
    case({"employees": {"firstName": ["Alice"]}}, EMPLOYEES, False, "ruler-alice"),
    case({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, EMPLOYEES, False, "ruler-anna-jones"),
    case({"a": ["b"]}, EMPLOYEES, False, "ruler-no-field"),
    case({"employees": ["b"]}, EMPLOYEES, False, "ruler-leaf-on-objects"),
    case({"employees": {"firstName": ["Anna"], "ids": [1000]}}, EMPLOYEES, False, "ruler-anna-1000"),
    case({"employees": {"firstName": ["Anna"], "ids": [{"exists": True}]}}, EMPLOYEES, False, "ruler-anna-ids"),
    case({"employees": {"firstName": ["Peter"], "ids": [{"exists": False}]}}, EMPLOYEES, True, "empty-array-absent"),
    case({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}, EMPLOYEES, True, "same-element"),
    case(
        {"a": {"b": {"c": [1], "d": [2]}}},
        {"a": [{"b": [{"c": 1, "d": 3}, {"c": 2, "d": 2}]}, {"b": {"c": 1, "d": 2}}]},
        True,
        "nested-arrays-consistent-element",
    ),
    case(
        {"a": {"b": {"c": [1], "d": [2]}}},
        {"a": [{"b": [{"c": 1, "d": 3}, {"c": 2, "d": 2}]}]},
        False,
        "nested-arrays-inner-elements-differ",
    ),
    case(
        {"a": {"x": [1]}, "b": {"y": [2]}},
        {"a": [{"x": 1}, {"x": 0}], "b": [{"y": 0}, {"y": 2}]},
        True,
        "different-arrays-combine",
    ),
    case({"tags": ["prod"]}, {"tags": [["dev"], "prod"]}, True, "scalars-in-arrays"),
]

# --- $or ---------------------------------------------------------------------------------------------
# Sources: event-ruler README "The $or Primitive" (normal, parallel, "or" with "and" inside, nested);
# AWS content-filtering docs, "Or matching".
CLOUDWATCH = {"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/EC2", "spaceId": 1000}
OR = [
    case(
        {"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]},
        CLOUDWATCH,
        True,
        "readme-normal-or",
    ),
    case(
        {"$or": [{"metricName": ["x"]}, {"scope": ["Service"]}], "detail": {"$or": [{"a": [1]}, {"b": [2]}]}},
        CLOUDWATCH,
        False,
        "readme-parallel-or-miss",
    ),
    case(
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization"]},
                {
                    "metricType": ["MetricType"],
                    "namespace": ["AWS/EC2"],
                    "$or": [{"metricId": [1234]}, {"spaceId": [1000]}],
                },
                {"scope": ["Service"]},
            ],
        },
        CLOUDWATCH,
        True,
        "readme-nested-or-and",
    ),
    case(
        {"records": {"$or": [{"a": [1], "b": [2]}, {"c": [3]}]}},
        {"records": [{"a": 1, "b": 0}, {"a": 0, "b": 2}]},
        False,
        "or-branch-keeps-array-consistency",
    ),
]

ALL_CASES = NULL_AND_MISSING + ANYTHING_BUT + TYPES + IGNORE_CASE + NUMBERS + DOTS + ARRAYS + OR


@pytest.mark.parametrize(("pattern", "event", "expected"), ALL_CASES)
def test_conformance(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert validate_pattern(pattern) == []
    assert matches(pattern, event) is expected
    explanation = explain_mismatch(pattern, event)
    assert (explanation is None) is expected


# --- explanations name the first field that fails --------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "event", "explanation"),
    [
        (
            {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
            EMPLOYEES,
            ("employees.lastName", "matches only in other elements of an array than the fields before it"),
        ),
        ({"detail.state.status": ["stopped"]}, DOTTED, ("detail.state.status", '"running" is not "stopped"')),
        ({"a": [{"anything-but": {"prefix": ["x", "y"]}}]}, {"a": "yes"}, ("a", '"yes" is not anything-but')),
        ({"a": [{"numeric": [">", 0]}]}, {"a": 2**60}, ("a", "1152921504606846976 is not > 0")),
    ],
)
def test_explanation(pattern: dict[str, Any], event: dict[str, Any], explanation: tuple[str, str]) -> None:
    found = explain_mismatch(pattern, event)
    assert found is not None
    assert found[0] == explanation[0]
    assert found[1].startswith(explanation[1])


# --- patterns AWS refuses --------------------------------------------------------------------------
# Sources: JsonRuleCompilerTest.testCompile (badPatternTypes) and testNumericExpressions (bads);
# JsonRuleCompiler.writeRules ("Path `x` cannot be allowed multiple times"),
# parseObjectInsideOrRelationship (reserved names inside "$or"), ComparableNumber.generate.
REFUSED = [
    pytest.param({"a": 1}, "a", "must be a list", id="values-must-be-in-a-list"),
    pytest.param({"a": [{"x": 2}]}, "a", "unknown operator 'x'", id="unknown-operator"),
    pytest.param({"foo": {}}, "foo", "empty object", id="empty-object"),
    pytest.param({"foo": []}, "foo", "empty list", id="empty-array"),
    pytest.param({"a": [{"prefix": "child", "foo": []}]}, "a", "exactly one key", id="prefix-extra-key"),
    pytest.param({"a": [{"prefix": 3}]}, "a", "'prefix' must be", id="prefix-number"),
    pytest.param({"a": [{"suffix": 3}]}, "a", "'suffix' must be", id="suffix-number"),
    pytest.param({"a": [{"cidr": "foo"}]}, "a", "invalid CIDR", id="cidr-garbage"),
    pytest.param({"a": [{"anything-but": ["child0", 111]}]}, "a", "only strings or only numbers", id="ab-mixed"),
    pytest.param({"a": [{"anything-but": {"foo": 3}}]}, "a", "unknown operator 'foo'", id="ab-unknown"),
    pytest.param({"a": [{"anything-but": {"prefix": 27}}]}, "a", "must be a string or", id="ab-prefix-number"),
    pytest.param({"a": [{"anything-but": {"prefix": ""}}]}, "a", "not be an empty string", id="ab-prefix-empty"),
    pytest.param({"a": [{"anything-but": {"prefix": ["1", ""]}}]}, "a", "not be an empty", id="ab-prefix-list-empty"),
    pytest.param({"a": [{"anything-but": {"prefix": [1, 2, 3]}}]}, "a", "list of strings", id="ab-prefix-numbers"),
    pytest.param({"a": [{"anything-but": {"suffix": ""}}]}, "a", "not be an empty string", id="ab-suffix-empty"),
    pytest.param({"a": [{"anything-but": {"suffix": ["1", ""]}}]}, "a", "not be an empty", id="ab-suffix-list-empty"),
    pytest.param({"a": [{"anything-but": {"equals-ignore-case": [1, 2]}}]}, "a", "list of strings", id="ab-ic-nums"),
    pytest.param({"a": [{"anything-but": {"wildcard": "foo**bar"}}]}, "a", "consecutive", id="ab-wc-stars"),
    pytest.param({"a": [{"anything-but": {"wildcard": ["1", "foo*bar\\"]}}]}, "a", "may escape", id="ab-wc-backslash"),
    pytest.param({"a": [{"anything-but": {"wildcard": [1, 2]}}]}, "a", "list of strings", id="ab-wc-numbers"),
    pytest.param({"a": [{"anything-but": [2**60]}]}, "a", "can compare", id="ab-number-no-double-holds"),
    pytest.param({"a": [{"equals-ignore-case": 5}]}, "a", "must be a string", id="ic-number"),
    pytest.param({"a": [{"equals-ignore-case": ["abc"]}]}, "a", "must be a string", id="ic-list"),
    pytest.param({"a": [{"prefix": {"invalid-expression": ["abc"]}}]}, "a", "'prefix' must be", id="prefix-object"),
    pytest.param({"a": [{"suffix": {"equals-ignore-case": ["abc"]}}]}, "a", "'suffix' must be", id="suffix-ic-list"),
    pytest.param({"a": [{"wildcard": ["abc"]}]}, "a", "'wildcard' must be a string", id="wildcard-list"),
    pytest.param({"x": [{"numeric": ["=", True]}]}, "x", "malformed numeric", id="numeric-bool"),
    pytest.param({"x": [{"numeric": ["=", "-4e-6"]}]}, "x", "malformed numeric", id="numeric-string"),
    pytest.param({"x": [{"numeric": ["<"]}]}, "x", "malformed numeric", id="numeric-no-bound"),
    pytest.param({"x": [{"numeric": ["<>", 1, ">", 0]}]}, "x", "malformed numeric", id="numeric-bad-op"),
    pytest.param({"x": [{"numeric": ["<", 1, ">", 0]}]}, "x", "malformed numeric", id="numeric-upper-first"),
    pytest.param({"x": [{"numeric": [">", 1, "<", 1]}]}, "x", "malformed numeric", id="numeric-empty-range"),
    pytest.param({"x": [{"numeric": [">", 30, "<", 1]}]}, "x", "malformed numeric", id="numeric-inverted"),
    pytest.param({"x": [{"numeric": [">", 1, "<", 30, False]}]}, "x", "malformed numeric", id="numeric-five-terms"),
    pytest.param({"x": [{"numeric": ["=", 2**60]}]}, "x", "a double holds exactly", id="numeric-no-double-holds"),
    pytest.param({"a": [{"exists": "badString"}]}, "a", "true or false", id="exists-string"),
    pytest.param({"a.b": ["x"], "a": {"b": ["y"]}}, "a.b", "EventBridge joins nested names", id="path-twice-dots"),
    pytest.param(
        {"name": ["a", "b"], "$or": [{"name": [{"anything-but": "a"}]}, {"condition1": ["x"]}]},
        "name",
        "EventBridge joins nested names",
        id="ruler-path-twice-through-or",
    ),
    pytest.param({"$or": [{"prefix": ["x"]}, {"b": ["y"]}]}, "$or[0].prefix", "reserved", id="reserved-in-or"),
    pytest.param({"$or": [{"a": {"numeric": [1]}}, {"b": ["y"]}]}, "$or[0].a.numeric", "reserved", id="reserved-deep"),
]


@pytest.mark.parametrize(("pattern", "path", "message"), REFUSED)
def test_refused(pattern: object, path: str, message: str) -> None:
    ((where, why),) = validate_pattern(pattern)  # exactly one problem, at the path and with the reason
    assert (where, message in why) == (path, True), why


# Sources: JsonRuleCompilerTest.testCompile (good patterns) and testNumericExpressions (goods).
ACCEPTED = [
    {"a": [{"anything-but": {"prefix": ["abc", "123"]}}]},
    {"a": [{"anything-but": {"suffix": ["abc", "123"]}}]},
    {"a": [{"anything-but": {"equals-ignore-case": ""}}]},
    {"a": [{"anything-but": {"equals-ignore-case": ["abc", ""]}}]},
    {"a": [{"anything-but": {"wildcard": ""}}]},
    {"a": [{"anything-but": {"wildcard": ["foo*bar", ""]}}]},
    {"a": [{"prefix": {"equals-ignore-case": "child"}}]},
    {"a": [{"suffix": {"equals-ignore-case": "child"}}]},
    {"x": [{"numeric": ["=", -4e-6]}, {"numeric": ["<", 1e-320]}, {"numeric": [">=", 0, "<=", 1]}]},
    {"account": [123456789012, 2**60]},
    {"prefix": ["x"]},
    {"$or": [{"a": ["x"]}, {"a": ["y"]}]},
    {"a.b": ["x"], "a": {"c": ["y"]}},
]


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_accepted(pattern: dict[str, Any]) -> None:
    assert validate_pattern(pattern) == []
