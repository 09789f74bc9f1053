"""The API's task-model tests train tiny models: one torch thread, as the neural tests."""

from tests.neural.conftest import one_thread  # noqa: F401 - the autouse fixture
