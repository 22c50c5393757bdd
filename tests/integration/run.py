"""Run the integration tests and end with the line 'N passed, M failed'."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    label = os.environ.get("SANDPOOL_TEST_LABEL", "integration")
    suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[1:] or ["test_run"])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    # a case of a test (subTest) skipped counts as skipped; the test that
    # ran the others as passed
    whole = sum(1 for test, _ in result.skipped if not isinstance(test, unittest.case._SubTest))
    skipped = len(result.skipped)
    passed = result.testsRun - failed - whole
    print(f"{label}: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
