"""Submit jobs to a service and wait for their results, as a lab notebook would.

    python examples/submit_jobs.py http://localhost:5000 <service id> 1 2 3
"""
import sys

from topchef_client import JobWaitTimeout, TopChef, ValidationError


def main(address, service_id, values):
    with TopChef(address) as topchef:
        try:
            jobs = [topchef.submit(service_id, {"value": value}) for value in values]
        except ValidationError as error:
            print("not submitted: %s" % error)
            return 2
        try:
            finished = topchef.wait_all(jobs, timeout=60)
        except JobWaitTimeout as error:
            print(error)
            return 1
        for job in finished:
            if job.is_failed:
                print("%s failed: %s" % (job.parameters, job.error["message"]))
            else:
                print("%s -> %s" % (job.parameters, job.result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], [int(value) for value in sys.argv[3:]]))
