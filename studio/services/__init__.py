"""The services under `Studio`: each built from a `Store`, a `StudioConfig` and the other
services it needs (passed in), each with one job. Jobs and workers build the ones they need;
nothing here imports `Studio`, the UI or the CLI.

- `catalog.Catalog`: prompts, contenders, generations, raters; votes read back as DataFrames
- `voting.Voting`: a vote, the arena's vote-and-next click, a grid ranking; vote listeners
- `registry.RewardRegistry`: reward-model versions, the active one, loading, predictions
- `jobs.JobBoard`: the jobs table, cancelling, failing what dead workers left running
- `training.TrainingService`: reward-model training in the foreground or as a queued job
- `retrain.RetrainPolicy`: queue a retrain when enough new votes arrived
- `generators.Generators`: contenders' models, loaded once, with best-of-n's scorer
- `generation.GenerationService`: bulk generation and free prompts, stored with their media
- `pool.PoolService`: keeping ready pairs and grids in stock
- `imports.Imports` / `exports.Exports`: files in and out
- `rankings.Rankings` / `insights.Insights`: leaderboards, agreement, disagreements
"""
