"""Neural language models in PyTorch (fixed-window, RNN tanh/ReLU/sigmoid, LSTM, GRU)."""
