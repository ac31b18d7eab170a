"""NetCanvas design WideAndDeep: standalone PyTorch code (needs only torch)."""

import torch
from torch import nn


class WideAndDeep(nn.Module):
    """WideAndDeep, designed in NetCanvas.

    Inputs:
        input_a: (N, 5)
        input_b: (N, 6)
    Outputs:
        main_output: (N, 1), loss mse, weight 0.9, metric mae
        aux_output: (N, 1), loss mse, weight 0.1, metric mae
    """

    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(6, 30)
        self.hidden2 = nn.Linear(30, 30)
        self.main_head = nn.Linear(35, 1)
        self.aux_head = nn.Linear(30, 1)
        self.reset_parameters()

    def reset_parameters(self):
        """Start every layer afresh, with the initializers the design asks for.

        Layers left at "default" start as in Keras: Glorot-uniform weights, zero biases.
        """
        nn.init.xavier_uniform_(self.hidden1.weight)
        nn.init.zeros_(self.hidden1.bias)
        nn.init.xavier_uniform_(self.hidden2.weight)
        nn.init.zeros_(self.hidden2.bias)
        nn.init.xavier_uniform_(self.main_head.weight)
        nn.init.zeros_(self.main_head.bias)
        nn.init.xavier_uniform_(self.aux_head.weight)
        nn.init.zeros_(self.aux_head.bias)

    def forward(self, input_a, input_b):
        hidden1 = torch.relu(self.hidden1(input_b))
        hidden2 = torch.relu(self.hidden2(hidden1))
        concat = torch.cat([input_a, hidden2], dim=-1)
        main_head = self.main_head(concat)
        aux_head = self.aux_head(hidden2)
        return main_head, aux_head
