"""Tests of infra/check_template.py: the template passes, the rehearsal's lessons catch a grant too
many and a grant too few, and the AWS conventions (queue age alarms, schedule DLQs, a log filter
that lets the metrics through, an alarm on every sweep's repairs) are enforced (`make lint-infra` runs them)."""

import shutil
import tempfile
import unittest
from pathlib import Path

import check_template

HERE = Path(__file__).resolve().parent


class TemplateCase(unittest.TestCase):
    def check(self, edit):
        with tempfile.TemporaryDirectory() as tmp:
            template = Path(tmp) / "template.yaml"
            template.write_text(edit((HERE / "template.yaml").read_text(encoding="utf-8")), encoding="utf-8")
            shutil.copy(HERE / check_template.LESSONS, Path(tmp) / check_template.LESSONS)
            return check_template.check(template, HERE.parent)


class LessonsTest(TemplateCase):
    def test_the_template_keeps_the_lessons(self):
        self.assertEqual(self.check(lambda t: t), [])

    def test_a_grant_the_rehearsal_never_saw_used_is_named(self):
        extra = "                - dynamodb:GetItem\n                - dynamodb:Query\n"
        problems = self.check(lambda t: t.replace("                - dynamodb:GetItem\n", extra, 1))
        self.assertTrue(any("EscalateFunction: grants dynamodb:Query on Table" in p for p in problems), problems)

    def test_a_call_the_role_does_not_grant_is_named(self):
        statement = (
            "            - Sid: DeadLetterTagSync\n              Effect: Allow\n"
            "              Action: sqs:SendMessage\n              Resource: !GetAtt TagSyncDlq.Arn\n"
        )
        problems = self.check(lambda t: t.replace(statement, ""))
        self.assertTrue(
            any("TagSyncFunction: the rehearsal saw it call sqs:SendMessage on TagSyncDlq" in p for p in problems),
            problems,
        )


class ConventionsTest(TemplateCase):
    def test_a_job_queue_without_an_age_alarm_is_named(self):
        start = "  TagSyncQueueAgeAlarm:\n"
        problems = self.check(lambda t: t.replace(start, "  TagSyncQueueAgeAlarmGone:\n").replace(
            "MetricName: ApproximateAgeOfOldestMessage\n      Dimensions:\n        - Name: QueueName\n"
            "          Value: !GetAtt TagSyncQueue.QueueName",
            "MetricName: NumberOfMessagesSent\n      Dimensions:\n        - Name: QueueName\n"
            "          Value: !GetAtt TagSyncQueue.QueueName"))
        self.assertTrue(any("TagSyncQueue: no age alarm" in p for p in problems), problems)

    def test_a_schedule_without_a_dead_letter_queue_is_named(self):
        dlq = "            DeadLetterConfig:\n              Arn: !GetAtt ScheduleDlq.Arn\n"
        problems = self.check(lambda t: t.replace(dlq, "", 1))
        self.assertTrue(any("Events.Sweep: DeadLetterConfig.Arn must be" in p for p in problems), problems)

    def test_a_sweep_whose_repairs_no_alarm_watches_is_named(self):
        job = "                - Name: Job\n                  Value: tag-sync\n"
        problems = self.check(lambda t: t.replace(job, "                - Name: Job\n                  Value: tag-sink\n", 1))
        self.assertTrue(
            any("TagSyncFunction.Events.Sweep: a repair sweep without an alarm on Repaired (Job=tag-sync)" in p
                for p in problems),
            problems,
        )

    def test_a_log_level_filter_that_could_drop_metrics_is_named(self):
        level = "ApplicationLogLevel: TRACE"
        problems = self.check(lambda t: t.replace(level, "ApplicationLogLevel: !Ref LogLevel", 1))
        self.assertTrue(any("could drop the EMF metric lines" in p for p in problems), problems)


if __name__ == "__main__":
    unittest.main()


class FunctionUrlTest(TemplateCase):
    def test_a_public_function_url_without_the_invoke_statement_is_named(self):
        statement = "      Action: lambda:InvokeFunction\n      Principal: \"*\"\n      InvokedViaFunctionUrl: true\n"
        self.assertEqual(self.check(lambda t: t), [])
        problems = self.check(lambda t: t.replace(statement, "      Action: lambda:InvokeFunction\n      Principal: \"*\"\n", 1))
        self.assertTrue(
            any("IntercomWebhookFunctionUrl: a public function URL of IntercomWebhookFunction needs a Permission "
                "(lambda:InvokeFunction with InvokedViaFunctionUrl true" in p for p in problems),
            problems,
        )

    def test_a_public_function_url_without_the_url_statement_is_named(self):
        statement = "      FunctionName: !Ref ZendeskWebhookFunction\n      Action: lambda:InvokeFunctionUrl\n"
        problems = self.check(lambda t: t.replace(statement, "      FunctionName: !Ref ZendeskWebhookFunction\n      Action: lambda:GetFunction\n", 1))
        self.assertTrue(
            any("ZendeskWebhookFunctionUrl: a public function URL of ZendeskWebhookFunction needs a Permission "
                "(lambda:InvokeFunctionUrl" in p for p in problems),
            problems,
        )

