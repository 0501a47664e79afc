"""Every chat subcommand reaches its real workflow function.

The stand-in workflows (fake_workflows) prove the chat plumbing; these prove
the mapping itself: each WORKFLOWS path imports, is callable, and accepts every
argument its command parses, so a renamed or missing workflow fails here, and
a signed `/oncall` of each subcommand runs the real workflow against the
sandbox's real Prometheus, Kubernetes API and Loki stand-ins.
"""

from __future__ import annotations

import inspect

import pytest

from bot.chat_deps import ChatDeps
from bot.commands import ROUTER, parse, provided
from bot.settings import Settings
from bot.store import Store
from bot.workflow_calls import WORKFLOWS, bind, find_workflow
from sandbox import procs
from sandbox.runner import Sandbox
from tests.chat.test_slack_commands import results
from tests.conftest import shared_scenario

# One invocation per workflow subcommand, with every option it parses.
SAMPLES = {
    "health": ["health", "health shop", "health --namespace shop"],
    "triage": ["triage pod/checkout-1 --lines 20 -n shop", "triage deployment/checkout"],
    "slo": ["slo checkout", "slo checkout --namespace shop"],
    "canary": ['canary app="web",track="canary" app="web",track="stable" --window 15m'],
    "cost": ["cost", "cost shop"],
}


def test_every_workflow_subcommand_has_a_mapping_and_samples():
    workflow_commands = {name for name, sub in ROUTER.items() if sub.workflow}
    assert workflow_commands == set(WORKFLOWS) == set(SAMPLES)


@pytest.fixture
def deps(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/wiring.db")
    yield ChatDeps.build(Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/wiring.db"), store)
    store.close()


@pytest.mark.parametrize("command, text", [(c, t) for c, texts in SAMPLES.items() for t in texts])
def test_the_real_workflow_accepts_what_the_command_builds(deps, command, text):
    sub, args = parse(text)
    assert sub.name == command
    fn = find_workflow(command)  # raises if the module or function is gone
    assert callable(fn) and inspect.iscoroutinefunction(fn), f"{WORKFLOWS[command]} is not an async workflow"
    params = inspect.signature(fn).parameters
    dropped = sorted(set(args) - set(params))
    assert dropped == [], f"{command}: {dropped} parsed but {fn.__name__}() has no such parameter"
    kwargs = bind(fn, provided(command, deps, args))
    assert {k: kwargs[k] for k in args if args[k] is not None} == {k: v for k, v in args.items()
                                                                   if v is not None}


@pytest.fixture
async def sandbox():
    async with Sandbox(shared_scenario("shop-checkout-oom"), alerting=False, slack=False) as sb:
        yield sb


# Text from each real workflow's answer on shop-checkout-oom (what the scenario holds).
REAL = [
    ("health shop", "OOMKilled x3"),
    ("triage deployment/checkout -n shop --lines 200", "last terminated OOMKilled x3"),
    ("slo checkout -n shop", "*verdict*: page: burn above 14.4x"),
    ('canary service="checkout" service="frontend" --window 30m', "*Hold*"),
    ("cost shop", "3 crash-looping/pending pod(s) waste"),
]


async def test_signed_commands_run_the_real_workflows_against_the_sandbox(chat_bot, sandbox):
    bot = await chat_bot(prometheus_url=sandbox.urls["prometheus"], loki_url=sandbox.urls["loki"],
                         kube_api_url=sandbox.urls["kube"],
                         alertmanager_url=f"http://127.0.0.1:{procs.free_port()}")
    for i, (text, expect) in enumerate(REAL, start=1):
        resp = await bot.command(text)
        assert resp.status_code == 200 and "Working on" in resp.json()["text"], resp.text
        await bot.slack.wait_for(lambda s: len(results(bot)) >= i or s.calls_to("chat.postEphemeral"),
                                 timeout=60)
        assert bot.slack.calls_to("chat.postEphemeral") == [], f"{text}: {bot.slack.calls_to('chat.postEphemeral')}"
        posted = results(bot)[-1]
        body = str(posted["blocks"]).lower()
        assert f"ran `/oncall {text}`".lower() in body.replace("\\'", "'")
        assert expect.lower() in body, f"{text}: {body[:1500]}"
