"""A small GPT-style character language model, written as a PyTorch user would (nanoGPT's shape).

It trains on the text of Python's own ``pydoc_data/topics.py`` (the help() topics), so it needs no
download. Run:

    python examples/char_lm.py                       # defaults: learns visibly in a few minutes on CPU
    python examples/char_lm.py --device cuda --steps 2000
    python examples/char_lm.py --steps 50 --n-layer 1 --n-head 2 --n-embd 32 --block-size 16
"""

import argparse
import time

import pydoc_data.topics

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F
import ferrotorch.optim as optim
from ferrotorch.nn.utils import clip_grad_norm_


# ---------------------------------------------------------------------------------------------
# Data


def load_text():
    """The help() topics: ~0.5M characters of English prose and Python code, shipped with Python."""
    topics = pydoc_data.topics.topics
    return "\n".join(topics[key] for key in sorted(topics))


class CharTokenizer:
    """Maps each distinct character of the corpus to an id; the vocabulary is tiny (~100)."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @property
    def vocab_size(self):
        return len(self.chars)

    def encode(self, text):
        return [self.stoi[c] for c in text]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def split_data(ids, val_fraction=0.1):
    """Hold out the tail so validation loss measures generalisation, not memorisation."""
    data = torch.tensor(ids, dtype=torch.long)
    n = int(len(data) * (1 - val_fraction))
    return data[:n], data[n:]


def get_batch(data, batch_size, block_size, device):
    """Random windows; the target is the input shifted by one character."""
    starts = torch.randint(len(data) - block_size - 1, (batch_size,))
    x = torch.stack([data[i : i + block_size] for i in starts.tolist()])
    y = torch.stack([data[i + 1 : i + 1 + block_size] for i in starts.tolist()])
    return x.to(device), y.to(device)


# ---------------------------------------------------------------------------------------------
# Model


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        assert n_embd % n_head == 0
        self.n_head = n_head
        # One projection for q, k and v: a single larger matmul is cheaper than three small ones.
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        # (B, T, C) -> (B, n_head, T, head_dim): each head attends independently.
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        # is_causal masks the future, so position t only sees characters 0..t.
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


class MLP(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.fc = nn.Linear(n_embd, 4 * n_embd)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.proj(self.gelu(self.fc(x)))


class Block(nn.Module):
    """Pre-norm residual block: normalising the branch input keeps the residual stream unscaled,
    which trains stably without learning-rate tricks."""

    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        x = x + self.mlp(self.ln2(x))
        return x


class CharGPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd):
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        # Learned positions: attention itself is order-blind.
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        # Weight tying: the same matrix embeds a character and scores it as the next one.
        self.head.weight = self.tok_emb.weight
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module):
        # GPT-2's small-normal init; torch's defaults are tuned for other architectures.
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        pos = torch.arange(T, device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))
        return logits, loss


@torch.no_grad()
def generate(model, idx, max_new_tokens, temperature=1.0, greedy=False):
    """Extend idx (B, T) one character at a time, feeding back at most block_size of context."""
    model.eval()
    for _ in range(max_new_tokens):
        context = idx[:, -model.block_size :]
        logits, _ = model(context)
        logits = logits[:, -1, :] / temperature
        if greedy:
            next_id = logits.argmax(dim=-1, keepdim=True)
        else:
            probs = F.softmax(logits, dim=-1)
            next_id = torch.multinomial(probs, num_samples=1)
        idx = torch.cat([idx, next_id], dim=1)
    model.train()
    return idx


def sample(model, tokenizer, prompt="\n", length=100, device="cpu", greedy=False):
    """Text of `length` new characters after `prompt` (which is not included)."""
    idx = torch.tensor([tokenizer.encode(prompt)], dtype=torch.long, device=device)
    out = generate(model, idx, length, greedy=greedy)
    return tokenizer.decode(out[0, len(prompt) :].tolist())


# ---------------------------------------------------------------------------------------------
# Optimisation


def make_optimizer(model, lr, weight_decay=0.1):
    """AdamW with weight decay on matrices (weights, embeddings) only, as nanoGPT: decaying biases
    and LayerNorm gains would only pull them towards 0 and fight the normalisation."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


def make_scheduler(optimizer, steps, warmup):
    """Linear warmup (Adam's moment estimates are noisy at first), then cosine decay to 10%."""
    warmup = max(1, min(warmup, steps - 1))
    ramp = optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=warmup)
    decay = optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=max(1, steps - warmup), eta_min=optimizer.param_groups[0]["lr"] * 0.1
    )
    return optim.lr_scheduler.SequentialLR(optimizer, [ramp, decay], milestones=[warmup])


@torch.no_grad()
def estimate_loss(model, data, batch_size, block_size, device, iters=10):
    model.eval()
    losses = [
        model(*get_batch(data, batch_size, block_size, device))[1].item() for _ in range(iters)
    ]
    model.train()
    return sum(losses) / len(losses)


def train(
    steps=600,
    batch_size=32,
    block_size=64,
    n_layer=4,
    n_head=4,
    n_embd=128,
    lr=3e-3,
    warmup=None,
    seed=1337,
    device="cpu",
    log_every=10,
    sample_every=200,
    sample_len=120,
    verbose=True,
):
    """Train a model; returns (model, tokenizer, losses) with the training loss of every step."""
    torch.manual_seed(seed)
    device = torch.device(device)
    text = load_text()
    tokenizer = CharTokenizer(text)
    train_data, val_data = split_data(tokenizer.encode(text))

    model = CharGPT(tokenizer.vocab_size, block_size, n_layer, n_head, n_embd).to(device)
    optimizer = make_optimizer(model, lr)
    scheduler = make_scheduler(optimizer, steps, warmup if warmup is not None else steps // 10)
    if verbose:
        n_params = sum(p.numel() for p in model.parameters())
        print(
            f"{len(text)} characters, vocab {tokenizer.vocab_size}, {n_params / 1e6:.2f}M parameters"
        )

    losses = []
    start = time.time()
    for step in range(1, steps + 1):
        x, y = get_batch(train_data, batch_size, block_size, device)
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        # Clipping tames the occasional huge gradient early on, when attention is still sharpening.
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())

        if verbose and (step % log_every == 0 or step == 1):
            elapsed = time.time() - start
            print(
                f"step {step:5d} | loss {losses[-1]:.4f} | lr {scheduler.get_last_lr()[0]:.2e}"
                f" | {elapsed / step * 1000:.0f} ms/step"
            )
        if verbose and sample_every and step % sample_every == 0:
            val = estimate_loss(model, val_data, batch_size, block_size, device)
            print(f"--- step {step}: val loss {val:.4f}, sample:")
            print(sample(model, tokenizer, length=sample_len, device=device))
            print("---")
    return model, tokenizer, losses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--n-layer", type=int, default=4)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-embd", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--sample-every", type=int, default=200)
    args = parser.parse_args()
    train(
        steps=args.steps,
        batch_size=args.batch_size,
        block_size=args.block_size,
        n_layer=args.n_layer,
        n_head=args.n_head,
        n_embd=args.n_embd,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        log_every=args.log_every,
        sample_every=args.sample_every,
    )


if __name__ == "__main__":
    main()
