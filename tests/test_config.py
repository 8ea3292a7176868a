"""studio.toml, the environment and overrides build one StudioConfig; bad files are refused."""

from __future__ import annotations

import pytest

from studio.config import load_config
from studio.errors import ConfigError


def write(tmp_path, text: str):
    (tmp_path / "studio.toml").write_text(text)
    return tmp_path


def test_defaults_put_everything_in_the_data_dir(tmp_path):
    config = load_config(tmp_path, env={})
    assert config.database_url == f"sqlite:///{(tmp_path / 'studio.db').resolve()}"
    assert config.media_dir == tmp_path / "media"
    assert config.queue_url is None and config.server.host == "127.0.0.1"
    assert config.server.analytics is False and config.server.share is False


def test_precedence_is_defaults_then_file_then_environment_then_overrides(tmp_path):
    write(tmp_path, '[studio]\nqueue_url = "redis://file"\n[training]\nretrain_every = 10\n')
    assert load_config(tmp_path, env={}).queue_url == "redis://file"
    assert load_config(tmp_path, env={}).training.retrain_every == 10
    assert load_config(tmp_path, env={"STUDIO_QUEUE_URL": "redis://env"}).queue_url == "redis://env"
    assert load_config(tmp_path, env={"STUDIO_QUEUE_URL": "redis://env"},
                       queue_url="redis://flag").queue_url == "redis://flag"


def test_data_dir_defaults_to_the_environment_then_studio_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(env={"STUDIO_DATA": str(tmp_path / "x")}).data_dir == tmp_path / "x"
    assert load_config(env={}).data_dir.name == "studio-data"


def test_a_database_url_keeps_files_in_the_data_dir(tmp_path):
    config = load_config("postgresql://u@h/db", data_dir=tmp_path, env={})
    assert config.database_url == "postgresql://u@h/db" and config.data_dir == tmp_path


def test_contenders_are_read_and_validated(tmp_path):
    write(tmp_path, """
[[contenders]]
name = "smol-cold"
model = "smollm2-135m"
params = { temperature = 0.3, max_new_tokens = 64 }

[[contenders]]
name = "sd"
kind = "image"
backend = "diffusers"
model = "./tiny-sd"
params = { steps = 2, width = 64, height = 64 }
""")
    names = [c.name for c in load_config(tmp_path, env={}).contenders]
    assert names == ["smol-cold", "sd"]


@pytest.mark.parametrize("text, message", [
    ("[[contenders]]\nname='a'\nmodel='m'\ncolour='red'\n", "contender 'a': unknown key 'colour'"),
    ("[[contenders]]\nname='a'\nmodel='m'\nparams={temprature=1.0}\n", "contender 'a': unknown key 'params.temprature'"),
    ("[[contenders]]\nname='a'\nmodel='m'\nparams={temperature='hot'}\n", "key 'params.temperature' must be"),
    ("[[contenders]]\nname='a'\nmodel='m'\nparams={top_p=2.0}\n", "between 0.0 and 1.0"),
    ("[[contenders]]\nname='a'\nbackend='diffusers'\nkind='image'\nmodel='m'\nparams={width=65}\n", "multiple of 8"),
    ("[[contenders]]\nname='a'\nbackend='diffusers'\nkind='text'\nmodel='m'\n", "makes image contenders"),
    ("[[contenders]]\nname='a'\nmodel='m'\n[[contenders]]\nname='a'\nmodel='n'\n", "declared twice"),
    ("[server]\nprot = 1\n", "[server] unknown key 'prot'"),
    ("[training]\nretrain_every = 'often'\n", "[training] key 'retrain_every' must be int"),
    ("[pool]\nmin_ready = true\n", "[pool] key 'min_ready' must be int"),
    ("[nonsense]\n", "unknown section 'nonsense'"),
    ("not toml ===", "not valid TOML"),
])
def test_bad_config_names_file_contender_and_key(tmp_path, text, message):
    write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path, env={})
    assert message in str(error.value)
    assert str(tmp_path / "studio.toml") in str(error.value)
    assert "\n" not in str(error.value)
