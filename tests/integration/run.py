"""Run the integration tests and end with the line 'N passed, M failed'."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def whole_test(test):
    """The test a case (subTest) belongs to, or TEST itself."""
    return test.test_case if isinstance(test, unittest.case._SubTest) else test


def main():
    label = os.environ.get("SANDPOOL_TEST_LABEL", "integration")
    suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[1:] or ["test_run"])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failures = [test for test, _ in result.failures + result.errors]
    failed = len(failures) + len(result.unexpectedSuccesses)
    # a test counts once: passed, failed (one of its cases or more) or
    # skipped whole; a case of a test (subTest) skipped or failed is counted
    # as such, and the test that ran the others is not passed
    failed_tests = {whole_test(test).id() for test in failures}
    whole = sum(1 for test, _ in result.skipped if not isinstance(test, unittest.case._SubTest))
    skipped = len(result.skipped)
    passed = result.testsRun - len(failed_tests) - len(result.unexpectedSuccesses) - whole
    print(f"{label}: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
