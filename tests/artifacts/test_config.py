"""Where the files live, from the config: `[studio] artifacts_url` < STUDIO_ARTIFACTS_URL <
--artifacts, keys from `[artifacts]` or the AWS variables, and the secret never shown."""

from __future__ import annotations

import pytest

from studio.config import load_config
from studio.errors import ConfigError


def test_the_url_and_keys_come_from_the_file_then_the_environment(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "studio.toml").write_text('[studio]\nartifacts_url = "s3://file-bucket/p"\n\n[artifacts]\n'
                                      'endpoint_url = "http://file:9000"\nsecret_access_key = "file-secret"\n')
    config = load_config(data, env={})
    assert config.artifacts_url == "s3://file-bucket/p"
    assert config.artifacts.endpoint_url == "http://file:9000" and config.artifacts.secret_access_key == "file-secret"
    env = {"STUDIO_ARTIFACTS_URL": "s3://env-bucket", "AWS_SECRET_ACCESS_KEY": "env-secret",
           "AWS_DEFAULT_REGION": "eu-west-1"}
    config = load_config(data, env=env)
    assert config.artifacts_url == "s3://env-bucket" and config.artifacts.secret_access_key == "env-secret"
    assert config.artifacts.region == "eu-west-1" and config.artifacts.endpoint_url == "http://file:9000"
    assert load_config(data, env=env, artifacts_url="s3://flag").artifacts_url == "s3://flag"
    assert "secret" not in repr(config) and "secret" not in repr(config.artifacts).replace("secret_access_key", "")


def test_unknown_keys_and_schemes_are_refused_in_one_line(tmp_path):
    from studio.artifacts import open_artifacts

    data = tmp_path / "data"
    data.mkdir()
    (data / "studio.toml").write_text('[artifacts]\nbucket = "x"\n')
    with pytest.raises(ConfigError, match=r"\[artifacts\] unknown key 'bucket'"):
        load_config(data, env={})
    with pytest.raises(ConfigError, match="'ftp://x' is not supported"):
        open_artifacts(load_config(tmp_path / "other", env={}, artifacts_url="ftp://x"))
    with pytest.raises(ConfigError, match="s3://bucket or s3://bucket/prefix"):
        open_artifacts(load_config(tmp_path / "other", env={}, artifacts_url="s3://"))


def test_by_default_the_files_stay_in_the_data_dir(tmp_path):
    from studio.artifacts import LocalArtifactStore, open_artifacts

    store = open_artifacts(load_config(tmp_path / "data", env={}))
    assert isinstance(store, LocalArtifactStore) and store.root == tmp_path / "data"
