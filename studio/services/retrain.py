"""When the votes say it is time to retrain: every `training.retrain_every` new trainable
votes on one kind of output (text, image) queue one head-mode training of that kind's model
(and every `full_retrain_every` a full fine-tune, when set); never two at once. Image votes
are retrained automatically only when a backbone for them is set (`image_backbone`, or a
`backbone` other than the built-in text one).

Counting votes costs a few queries, so after a count that said N more are needed, the next
N - 1 votes of this process skip it (votes cast elsewhere only make it sooner). Concurrent
votes take turns at the countdown; while one of them counts, the others go on.
"""

from __future__ import annotations

import threading

from studio.records import VoteResult
from studio.services.training import ACTIVE_KEY, TRAIN_KIND, TrainingService
from studio.services.training_request import TrainingRequest
from studio.store.jobs import JobRecord

RECHECK_WHILE_TRAINING = 10    # votes between looks at the threshold while a training runs
TEXT_BACKBONE = "all-minilm-l6-v2"   # the built-in default: it reads text only


class RetrainPolicy:
    def __init__(self, training: TrainingService):
        self.training = training
        self.store = training.store
        self._skip = 0
        self._countdown = threading.Lock()

    def after_vote(self, result: VoteResult) -> None:
        """A vote listener (`Voting.on_vote`)."""
        with self._countdown:
            skip = self._skip
            self._skip = skip - 1 if skip > 0 else RECHECK_WHILE_TRAINING
        if skip <= 0:
            self.maybe_enqueue()

    def maybe_enqueue(self) -> JobRecord | None:
        """Queue one training when enough new votes on one kind of output arrived since that
        kind's last one; returns the job queued, or None."""
        settings = self.training.config.training
        if settings.retrain_every <= 0 and settings.full_retrain_every <= 0:
            return None
        needed = []
        due = None
        with self.store.reader() as tx:
            if tx.jobs.holding(ACTIVE_KEY) is not None:
                self._skip = RECHECK_WHILE_TRAINING
                return None
            payloads = tx.jobs.recent_payloads(TRAIN_KIND)
            for kind in self.kinds():
                if settings.full_retrain_every > 0:
                    since_full = tx.reward_models.votes_after(_trained_through(tx, payloads, "full", kind), kind)
                    needed.append(settings.full_retrain_every - since_full)
                    if since_full >= settings.full_retrain_every:
                        due = ("full", kind)
                        break
                if settings.retrain_every > 0:
                    since_any = tx.reward_models.votes_after(_trained_through(tx, payloads, None, kind), kind)
                    needed.append(settings.retrain_every - since_any)
                    if since_any >= settings.retrain_every:
                        due = (settings.mode, kind)
                        break
        if due is None:
            self._skip = max(0, min(needed) - 1) if needed else RECHECK_WHILE_TRAINING
            return None
        return self.training.enqueue(TrainingRequest(mode=due[0], kind=due[1], trigger="votes"))

    def kinds(self) -> list[str]:
        """The kinds of output retrained automatically."""
        settings = self.training.config.training
        images = settings.image_backbone is not None or settings.backbone != TEXT_BACKBONE
        return ["text", "image"] if images else ["text"]

    def votes_until_retrain(self, kind: str = "text") -> int | None:
        """Trainable votes on `kind` outputs still needed before the next automatic
        head-mode retrain of that kind (0: due now); None when automatic retraining is off."""
        every = self.training.config.training.retrain_every
        if every <= 0:
            return None
        with self.store.reader() as tx:
            through = _trained_through(tx, tx.jobs.recent_payloads(TRAIN_KIND), None, kind)
            since = tx.reward_models.votes_after(through, kind)
        return max(0, every - since)


def _trained_through(tx, payloads: list[dict], mode: str | None, kind: str) -> int:
    """The newest vote on `kind` outputs the last training of this mode (any mode: None)
    already covered: the data range of its versions of that kind, or what its newest job
    was queued after (so a failed or unhelpful training is not retried on every following
    vote). A job from before trainings had a kind covered every kind."""
    newest = tx.reward_models.data_through(mode, kind)
    for payload in payloads:
        if (mode is None or payload.get("mode") == mode) and payload.get("kind") in (None, kind):
            newest = max(newest, int(payload.get("after_comparison_id") or 0))
    return newest
