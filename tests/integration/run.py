"""Run the integration tests and end with the line 'N passed, M failed'."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def whole_test(test):
    """The test a case (subTest) belongs to, or TEST itself."""
    return test.test_case if isinstance(test, unittest.case._SubTest) else test


class TimedResult(unittest.TextTestResult):
    """A result that keeps how long each test took, and each class's set-up
    (the time between one class's last test and the next class's first)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.times = {}
        self.last_stop = time.monotonic()

    def startTest(self, test):
        self.started = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        now = time.monotonic()
        # a class's setUpClass runs before its first test: counted with it
        self.times[test.id()] = now - min(self.started, self.last_stop)
        self.last_stop = now


def slowest(result, count=12):
    """The COUNT slowest tests, one line each (where a pass's time goes)."""
    ranked = sorted(result.times.items(), key=lambda kv: -kv[1])[:count]
    return "\n".join(f"  {seconds:7.1f} s  {name}" for name, seconds in ranked)


def by_module(result):
    """Each module's time, longest first, on one line."""
    totals = {}
    for name, seconds in result.times.items():
        module = name.split(".")[0]
        totals[module] = totals.get(module, 0.0) + seconds
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{module} {seconds:.0f} s" for module, seconds in ranked)


def main():
    label = os.environ.get("SANDPOOL_TEST_LABEL", "integration")
    suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[1:] or ["test_run"])
    runner = unittest.TextTestRunner(verbosity=2, stream=sys.stdout, resultclass=TimedResult)
    result = runner.run(suite)
    print(f"the slowest tests (with their class's set-up):\n{slowest(result)}")
    print(f"by module: {by_module(result)}")
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
