"""Model classes written the way people write them, for the import tests.

Each entry of `CASES` is a model in a common style (ResNet blocks, DCGAN, U-Net, VAE, GPT block,
Transformer encoder, LSTM language model, super-resolution, style transfer, …), small enough to
import in a fraction of a second. `UNTRACEABLE` lists forwards that torch.fx cannot trace, with
the construct the importer must name. Sizes are small so the whole set runs quickly in CI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Case:
    name: str
    factory: type[nn.Module]
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[str, ...] = ()
    blocks: tuple[str, ...] = field(default_factory=tuple)
    """The user's own submodule classes, expected to become block definitions (issue 11)."""
    random: bool = False
    """The forward draws random numbers (compare under the same seed)."""

    def inputs(self, batch: int = 2, seed: int = 0) -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        dtypes = self.dtypes or ("float32",) * len(self.shapes)
        return [torch.randint(0, 10, (batch, *s), generator=gen) if d == "int64"
                else torch.randn((batch, *s), generator=gen)
                for s, d in zip(self.shapes, dtypes)]


# --- convolutional classics -----------------------------------------------------------------

class LeNet5(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.pool1 = nn.AvgPool2d(2, stride=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool2 = nn.AvgPool2d(2, stride=2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool1(torch.tanh(self.conv1(x)))
        x = self.pool2(torch.tanh(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = torch.tanh(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class _ResNet(nn.Module):
    """torchvision's layout, shrunk: stem, stages made by _make_layer, adaptive pool, fc."""

    block: type[nn.Module] = BasicBlock
    layers = (2, 2)

    def __init__(self, num_classes=10, width=8):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(width, self.layers[0])
        self.layer2 = self._make_layer(width * 2, self.layers[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 2 * self.block.expansion, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * self.block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * self.block.expansion, 1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(planes * self.block.expansion),
            )
        layers = [self.block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * self.block.expansion
        for _ in range(1, blocks):
            layers.append(self.block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


class SmallResNetBasic(_ResNet):
    block = BasicBlock


class SmallResNetBottleneck(_ResNet):
    block = Bottleneck


class DepthwiseSeparable(nn.Module):
    """MobileNet-style: depthwise 3×3 (groups = channels), pointwise 1×1, ReLU6."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.pw = nn.Conv2d(16, 32, 1, bias=False)
        self.bn = nn.BatchNorm2d(32)
        self.head = nn.Linear(32, 5)

    def forward(self, x):
        x = F.relu6(self.stem(x))
        x = F.relu6(self.bn(self.pw(self.dw(x))))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


class DilatedConv1d(nn.Module):
    """WaveNet-style stack of dilated causal-ish 1-D convolutions with residual adds."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Conv1d(2, 8, 1)
        self.c1 = nn.Conv1d(8, 8, 3, padding=2, dilation=2)
        self.c2 = nn.Conv1d(8, 8, 3, padding=4, dilation=4)
        self.out = nn.Conv1d(8, 1, 1)

    def forward(self, x):
        x = self.inp(x)
        x = x + torch.tanh(self.c1(x))
        x = x + torch.tanh(self.c2(x))
        return self.out(x)


class Conv3dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool3d(2)
        self.drop = nn.Dropout3d(0.1)
        self.fc = nn.Linear(4 * 2 * 2 * 2, 3)

    def forward(self, x):
        x = self.drop(self.pool(F.relu(self.conv(x))))
        return self.fc(x.flatten(1))


# --- generative models ----------------------------------------------------------------------

class DCGANGenerator(nn.Module):
    def __init__(self, nz=8, ngf=8, nc=1):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class DCGANDiscriminator(nn.Module):
    def __init__(self, nc=1, ndf=8):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


class DoubleConv(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True),
            nn.Conv2d(out_ch, out_ch, 3, padding=1), nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.net(x)


class Down(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.conv = DoubleConv(in_ch, out_ch)

    def forward(self, x):
        return self.conv(self.pool(x))


class Up(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, in_ch // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_ch, out_ch)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels=1, n_classes=2, base=4):
        super().__init__()
        self.inc = DoubleConv(n_channels, base)
        self.down1 = Down(base, base * 2)
        self.down2 = Down(base * 2, base * 4)
        self.up1 = Up(base * 4, base * 2)
        self.up2 = Up(base * 2, base)
        self.outc = nn.Conv2d(base, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        x = self.up2(x, x1)
        return self.outc(x)


class ConvAutoencoderUpsample(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.enc2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.dec1 = nn.Conv2d(16, 8, 3, padding=1)
        self.dec2 = nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, x):
        h = F.relu(self.enc2(F.relu(self.enc1(x))))
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = F.relu(self.dec1(h))
        h = nn.functional.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        return torch.sigmoid(self.dec2(h))


class VAE(nn.Module):
    def __init__(self, d_in=64, hidden=32, latent=4):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc_mu = nn.Linear(hidden, latent)
        self.fc_logvar = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, d_in)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def forward(self, x):
        h = F.relu(self.fc1(x))
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = self.reparameterize(mu, logvar)
        recon = torch.sigmoid(self.fc4(F.relu(self.fc3(z))))
        return recon, mu, logvar


# --- image-to-image -------------------------------------------------------------------------

class SuperResolution(nn.Module):
    """The PyTorch example's sub-pixel CNN (Shi et al. 2016)."""

    def __init__(self, upscale_factor=2):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(16, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        return self.pixel_shuffle(self.conv3(x))


class ConvLayer(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + residual


class UpsampleConvLayer(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        if self.upsample:
            x = F.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(nn.Module):
    """The fast-neural-style example's network, narrowed."""

    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 8, kernel_size=9, stride=1)
        self.in1 = nn.InstanceNorm2d(8, affine=True)
        self.conv2 = ConvLayer(8, 16, kernel_size=3, stride=2)
        self.in2 = nn.InstanceNorm2d(16, affine=True)
        self.res1 = ResidualBlock(16)
        self.res2 = ResidualBlock(16)
        self.deconv1 = UpsampleConvLayer(16, 8, kernel_size=3, stride=1, upsample=2)
        self.in3 = nn.InstanceNorm2d(8, affine=True)
        self.deconv2 = ConvLayer(8, 3, kernel_size=9, stride=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.res2(self.res1(y))
        y = self.relu(self.in3(self.deconv1(y)))
        return self.deconv2(y)


class PaddingZoo(nn.Module):
    def __init__(self):
        super().__init__()
        self.zero = nn.ZeroPad2d((1, 1, 2, 0))
        self.rep = nn.ReplicationPad2d(1)
        self.conv = nn.Conv2d(2, 4, 3, padding_mode="reflect", padding=1)
        self.gn = nn.GroupNorm(2, 4)
        self.unshuffle = nn.PixelUnshuffle(2)

    def forward(self, x):
        x = self.conv(self.rep(self.zero(x)))
        x = F.silu(self.gn(x))
        return self.unshuffle(x)


# --- sequences --------------------------------------------------------------------------------

class LSTMLanguageModel(nn.Module):
    """The word_language_model example: embedding, 2-layer LSTM, decoder over every step."""

    def __init__(self, ntoken=50, ninp=16, nhid=16, nlayers=2, dropout=0.2):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout, batch_first=True)
        self.decoder = nn.Linear(nhid, ntoken)

    def forward(self, tokens):
        emb = self.drop(self.encoder(tokens))
        output, _ = self.rnn(emb)
        output = self.drop(output)
        decoded = self.decoder(output)
        return F.log_softmax(decoded, dim=-1)


class BiLSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])


class SeqFirstGRU(nn.Module):
    """batch_first=False, as in many older examples: the sequence axis comes first."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 8)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        x = x.transpose(0, 1)
        out, h = self.gru(x)
        return self.fc(h[-1])


class Seq2SeqEncoderDecoder(nn.Module):
    """The decoder LSTM starts from the encoder's final state."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(3, 8, batch_first=True)
        self.decoder = nn.LSTM(3, 8, batch_first=True)
        self.out = nn.Linear(8, 3)

    def forward(self, src, tgt):
        _, (h, c) = self.encoder(src)
        dec, _ = self.decoder(tgt, (h, c))
        return self.out(dec)


class TextCNN(nn.Module):
    def __init__(self, vocab=40, dim=8):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, 6, 3, padding=1)
        self.fc = nn.Linear(6, 2)

    def forward(self, tokens):
        x = self.embedding(tokens).permute(0, 2, 1)
        x = F.relu(self.conv(x))
        x = torch.max(x, dim=2).values
        return self.fc(x)


# --- attention ----------------------------------------------------------------------------------

class CausalSelfAttention(nn.Module):
    """nanoGPT's attention: one projection split into q, k, v; heads; causal SDPA; merge."""

    def __init__(self, n_embd=16, n_head=2):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head = n_head
        self.n_embd = n_embd

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, n_embd=16):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class GPTBlock(nn.Module):
    def __init__(self, n_embd=16):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class TinyGPT(nn.Module):
    """Token and learned position embeddings (torch.arange), two blocks, a head."""

    def __init__(self, vocab=30, block_size=8, n_embd=16):
        super().__init__()
        self.wte = nn.Embedding(vocab, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.h = nn.ModuleList([GPTBlock(n_embd) for _ in range(2)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)

    def forward(self, idx):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


class EncoderLayer(nn.Module):
    """A hand-written post-norm Transformer encoder layer around nn.MultiheadAttention."""

    def __init__(self, d_model=16, nhead=2, dim_ff=32, dropout=0.1):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(d_model, dim_ff)
        self.linear2 = nn.Linear(dim_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        attn, _ = self.self_attn(x, x, x, need_weights=False)
        x = self.norm1(x + self.dropout(attn))
        x = self.norm2(x + self.dropout(self.linear2(F.relu(self.linear1(x)))))
        return x


class PositionalTransformerClassifier(nn.Module):
    """Scaled embeddings, a learned positional parameter added by broadcasting, stacked
    EncoderLayer blocks, mean over time."""

    def __init__(self, vocab=20, d_model=16, max_len=12, classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.zeros(1, max_len, d_model))
        self.layers = nn.Sequential(EncoderLayer(d_model), EncoderLayer(d_model))
        self.head = nn.Linear(d_model, classes)
        self.d_model = d_model

    def forward(self, tokens):
        x = self.embed(tokens) * math.sqrt(self.d_model) + self.pos
        x = self.layers(x)
        return self.head(x.mean(dim=1))


class BuiltinTransformerEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 16)
        layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                           batch_first=True, norm_first=True,
                                           activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        return self.fc(self.encoder(self.proj(x))[:, 0])


class CrossAttentionFusion(nn.Module):
    """Two inputs: queries from one sequence attend over another (key/value)."""

    def __init__(self):
        super().__init__()
        self.q = nn.Linear(4, 8)
        self.kv = nn.Linear(6, 8)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.out = nn.Linear(8, 1)

    def forward(self, a, b):
        q, kv = self.q(a), self.kv(b)
        fused, _ = self.attn(q, kv, kv)
        return self.out(fused).squeeze(-1)


# --- parameters and arithmetic -------------------------------------------------------------------

class ParameterLinear(nn.Module):
    """Weights used directly: F.linear with nn.Parameters, a learned scale, a constant offset."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(3, 5) * 0.1)
        self.bias = nn.Parameter(torch.zeros(3))
        self.scale = nn.Parameter(torch.ones(3))

    def forward(self, x):
        y = F.linear(x, self.weight, self.bias)
        return 0.5 * y * self.scale + 1e-4


class ConstantArithmetic(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x):
        h = self.fc(x)
        h = (h - 1.0) / 2.0
        h = torch.sqrt(torch.abs(h) + 1e-4) - torch.log(torch.exp(h) + 1)
        return h.sum(dim=-1, keepdim=True) * 3


class SwishMishZoo(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.prelu = nn.PReLU()
        self.fc2 = nn.Linear(8, 8)
        self.fc3 = nn.Linear(8, 2)

    def forward(self, x):
        x = nn.functional.mish(self.fc1(x))
        x = self.prelu(x) + F.softplus(x) + F.selu(x) + F.celu(x)
        x = F.hardswish(self.fc2(x)) + F.hardsigmoid(x) + F.softsign(x)
        return self.fc3(F.silu(x))


class TwoTowerWideDeep(nn.Module):
    """Géron's Wide & Deep with an auxiliary output, subclassed."""

    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(6, 30)
        self.hidden2 = nn.Linear(30, 30)
        self.main = nn.Linear(5 + 30, 1)
        self.aux = nn.Linear(30, 1)

    def forward(self, input_a, input_b):
        h = F.relu(self.hidden2(F.relu(self.hidden1(input_b))))
        concat = torch.cat([input_a, h], dim=1)
        return self.main(concat), self.aux(h)


class ChunkGate(nn.Module):
    """Gated linear unit by hand: chunk into two halves, sigmoid gate, multiply."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 16)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        a, b = self.fc(x).chunk(2, dim=-1)
        return self.out(a * torch.sigmoid(b))


class AdaptiveMaxHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 6, 5, stride=2, padding=2)
        self.drop = nn.Dropout1d(0.1)
        self.norm = nn.InstanceNorm1d(6)
        self.pool = nn.AdaptiveMaxPool1d(4)
        self.fc = nn.Linear(24, 2)

    def forward(self, x):
        x = self.pool(self.norm(self.drop(F.elu(self.conv(x)))))
        return self.fc(x.flatten(1))


CASES: tuple[Case, ...] = (
    Case("lenet5", LeNet5, ((1, 28, 28),)),
    Case("resnet_basic", SmallResNetBasic, ((3, 32, 32),), blocks=("BasicBlock",)),
    Case("resnet_bottleneck", SmallResNetBottleneck, ((3, 32, 32),), blocks=("Bottleneck",)),
    Case("depthwise_separable", DepthwiseSeparable, ((3, 16, 16),)),
    Case("dilated_conv1d", DilatedConv1d, ((2, 20),)),
    Case("conv3d", Conv3dNet, ((1, 4, 4, 4),)),
    Case("dcgan_generator", DCGANGenerator, ((8, 1, 1),)),
    Case("dcgan_discriminator", DCGANDiscriminator, ((1, 16, 16),)),
    Case("unet", UNet, ((1, 16, 16),), blocks=("DoubleConv", "Down", "Up")),
    Case("conv_autoencoder", ConvAutoencoderUpsample, ((1, 8, 8),)),
    Case("vae", VAE, ((64,),), random=True),
    Case("super_resolution", SuperResolution, ((1, 8, 8),)),
    Case("style_transfer", TransformerNet, ((3, 16, 16),),
         blocks=("ConvLayer", "ResidualBlock", "UpsampleConvLayer")),
    Case("padding_zoo", PaddingZoo, ((2, 6, 6),)),
    Case("lstm_language_model", LSTMLanguageModel, ((7,),), ("int64",)),
    Case("bilstm_classifier", BiLSTMClassifier, ((6, 3),)),
    Case("seq_first_gru", SeqFirstGRU, ((5, 4),)),
    Case("seq2seq", Seq2SeqEncoderDecoder, ((5, 3), (4, 3))),
    Case("text_cnn", TextCNN, ((9,),), ("int64",)),
    Case("tiny_gpt", TinyGPT, ((8,),), ("int64",),
         blocks=("GPTBlock", "CausalSelfAttention", "MLP")),
    Case("transformer_classifier", PositionalTransformerClassifier, ((12,),), ("int64",),
         blocks=("EncoderLayer",)),
    Case("builtin_transformer_encoder", BuiltinTransformerEncoder, ((5, 4),)),
    Case("cross_attention", CrossAttentionFusion, ((3, 4), (5, 6))),
    Case("parameter_linear", ParameterLinear, ((5,),)),
    Case("constant_arithmetic", ConstantArithmetic, ((6,),)),
    Case("activation_zoo", SwishMishZoo, ((5,),)),
    Case("wide_deep", TwoTowerWideDeep, ((5,), (6,))),
    Case("chunk_gate", ChunkGate, ((4,),)),
    Case("adaptive_max_head", AdaptiveMaxHead, ((3, 16),)),
)


# --- forwards that torch.fx cannot trace ---------------------------------------------------------

class AssertsOnSize(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        assert x.shape[1] == 4, "expected 4 features"
        return self.fc(x)


class DeviceCheck(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        if x.is_cuda:
            x = x.half()
        return self.fc(x)


class DataDependentBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return -self.fc(x)


class LoopOverSize(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(3, 5)
        self.fc = nn.Linear(5, 1)

    def forward(self, x):
        h = torch.zeros(x.size(0), 5)
        c = torch.zeros(x.size(0), 5)
        for t in range(x.size(1)):
            h, c = self.cell(x[:, t], (h, c))
        return self.fc(h)


#: (model, input shapes, the kind of construct the message must name)
UNTRACEABLE: tuple[tuple[type[nn.Module], tuple[tuple[int, ...], ...], str], ...] = (
    (AssertsOnSize, ((4,),), "assert"),
    (DeviceCheck, ((4,),), "device"),
    (DataDependentBranch, ((4,),), "branch"),
    (LoopOverSize, ((6, 3),), "loop"),
)
