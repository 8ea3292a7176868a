"""Improving a contender from the votes: preference pairs from votes (`pairs`), DPO through
TRL with a LoRA adapter (`train`), the studio's settings that beat TRL's defaults (`config`),
on-policy pairs scored by a reward model (`onpolicy`) and the record of how a version was
made (`lineage`). Plain objects in and out: nothing here reads the database or the files."""
