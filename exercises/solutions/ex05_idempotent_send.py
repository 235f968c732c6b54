"""Exercise 05, a solution."""


class IdempotentSender:
    def __init__(self, send, sent):
        self.send = send
        self.sent = sent

    def deliver(self, job_id: str, message) -> bool:
        if job_id in self.sent:
            return False  # a redelivered job: the email went out the first time
        self.send(message)  # raises on failure: nothing remembered, the retry sends
        self.sent.add(job_id)  # a crash just before this line sends twice; see lesson 05
        return True
