"""trax LSHSelfAttention, as terra runs it (docs/lsh-attention.md): the encoder's full pass (trax eval
mode) and the decoder's predict mode (a first call over several rows, then one row at a time with a
bounded memory). Written from docs/lsh-attention-notes.md, which gives trax's file and line for
every rule below; float64, plain loops over heads and chunks: clarity, not speed.
"""
import math

import torch

MASK_FUTURE = 1e9   # trax mask_self_attention: subtracted from a key after the query (causal)
MASK_SELF = 1e5     # subtracted from the query's own key (any hash round)


def length_normalized(x, eps=1e-6):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps)


def factor_buckets(rv, factors, rows=None):
    """rv [..., sum(factors) / 2] rotated rows -> buckets [...]: trax's hash_vecs, factor by factor
    (one factor when n_buckets is an int): factor i's argmax over [x, -x] of its next factors[i] / 2
    columns (first maximum on ties), times the product of the factors before it. rows: a mask of
    the rows whose margins to record (golden.py prints them), or None."""
    buckets, scale, start = 0, 1, 0
    for f in factors:
        part = rv[..., start:start + f // 2]
        both = torch.cat([part, -part], -1)
        if margins is not None and rows is not None and rows.any():  # how near a tie each choice was
            top2 = both[:, rows].topk(2, -1).values
            margins.append(float((top2[..., 0] - top2[..., 1]).min()))
        buckets, scale, start = buckets + scale * both.argmax(-1), scale * f, start + f // 2
    return buckets


def hash_rows(qk, rotations, lsh):
    """qk [T, dk] raw (not normalized); rotations [dk, n_hashes * half]. -> buckets [n_hashes, T]:
    per round, factor_buckets of the round's half columns (an all-zero row gives 0)."""
    n_hashes = lsh['n_hashes']
    half = rotations.shape[1] // n_hashes
    rv = (qk @ rotations).reshape(qk.shape[0], n_hashes, half).transpose(0, 1)  # [n_hashes, T, half]
    rows = qk.abs().amax(-1) > 0  # zero rows (padding) tie by construction: bucket 0
    return factor_buckets(rv, lsh['factors'], rows)


margins = None  # a list to record hash_rows' smallest winning margins into, or None


def full_pass(qk, v, buckets, n_real, lsh, causal):
    """One head over T slots per round: sort by (bucket, position) per round, attend chunk by chunk
    to the window [c - before .. c + after] (wrapping around), combine the rounds by their
    log-sum-exp. Rows >= n_real are padding: they take their slot in the sort but are never a key
    (trax masks them: -1e9, or causally) and their outputs are not used.
    qk [T, dk] raw, v [T, dv], buckets [n_hashes, T] -> out [n_real, dv]."""
    nh, T = buckets.shape
    C, before, after = lsh['chunk_len'], lsh['n_chunks_before'], lsh['n_chunks_after']
    assert (nh * T) % C == 0
    k = length_normalized(qk) / math.sqrt(qk.shape[1])
    stride = int(buckets.max()) + 1  # any offset that separates the rounds sorts the same
    key = torch.stack([(r * stride + buckets[r]) * T + torch.arange(T) for r in range(nh)]).reshape(-1)
    order = torch.argsort(key)  # keys are unique
    pos = order % T             # the position in each sorted slot
    n_chunks = nh * T // C
    out_sorted = torch.zeros(nh * T, v.shape[1], dtype=v.dtype)
    lse_sorted = torch.zeros(nh * T, dtype=v.dtype)
    for c in range(n_chunks):
        window = torch.cat([pos[((c + i) % n_chunks) * C:((c + i) % n_chunks + 1) * C]
                            for i in range(-before, after + 1)])
        for s in range(c * C, (c + 1) * C):
            p = int(pos[s])
            if p >= n_real:
                continue
            dots = k[window] @ qk[p]
            dots = dots - MASK_FUTURE * (window >= n_real).to(dots.dtype)
            if causal:
                dots = dots - MASK_FUTURE * (window > p).to(dots.dtype)
            dots = dots - MASK_SELF * (window == p).to(dots.dtype)
            lse = torch.logsumexp(dots, 0)
            out_sorted[s] = torch.exp(dots - lse) @ v[window]
            lse_sorted[s] = lse
    undo = torch.argsort(order)
    o = out_sorted[undo].reshape(nh, T, -1)[:, :n_real]
    lse = lse_sorted[undo].reshape(nh, T)[:, :n_real]
    if nh == 1:
        return o[0]
    w = torch.exp(lse - torch.logsumexp(lse, 0, keepdim=True))
    return (o * w[..., None]).sum(0)


def round_up(n, m):
    return (n + m - 1) // m * m


def encoder_length(n, lsh):
    """trax needs n_hashes * L to be a multiple of chunk_len; a shorter input is padded (masked)."""
    L = n
    while (lsh['n_hashes'] * L) % lsh['chunk_len']:
        L += 1
    return L


def encoder_head(qk, v, rotations, lsh):
    n = qk.shape[0]
    L = encoder_length(n, lsh)
    buckets = torch.full((lsh['n_hashes'], L), lsh['n_buckets'], dtype=torch.long)  # padding's own bucket
    buckets[:, :n] = hash_rows(qk, rotations, lsh)
    pad = lambda x: torch.cat([x, torch.zeros(L - n, x.shape[1], dtype=x.dtype)])
    return full_pass(pad(qk), pad(v), buckets, n, lsh, causal=False)


def decoder_head(qk, v, rotations, lsh, first):
    """trax predict mode over the rows of one sequence: rows [0, first) arrive in one call, every
    later row alone. The memory holds predict_mem_len rows; when a row does not fit,
    predict_drop_len of the oldest are dropped."""
    N, dk = qk.shape
    nh, C = lsh['n_hashes'], lsh['chunk_len']
    mem_len, drop = lsh['predict_mem_len'], lsh['predict_drop_len']
    K = nh * C * (1 + lsh['n_chunks_before'])
    out = torch.zeros(N, v.shape[1], dtype=v.dtype)
    mem_qk = torch.zeros(mem_len, dk, dtype=qk.dtype)
    mem_v = torch.zeros(mem_len, v.shape[1], dtype=v.dtype)
    buckets = torch.zeros(nh, mem_len, dtype=torch.long)
    mem_end = buckets_idx = 0
    start = 0
    if first > 1:
        P = first
        if P <= drop and P < mem_len:  # the memory, zero rows included, is what gets hashed
            rows_qk, rows_v = mem_qk.clone(), mem_v.clone()
            rows_qk[:P], rows_v[:P] = qk[:P], v[:P]
            mem_qk, mem_v, mem_end = rows_qk.clone(), rows_v.clone(), P
        else:  # a long first call: its own rows; the memory keeps the last mem_len of them
            rows_qk, rows_v = qk[:P], v[:P]
            keep = min(P, mem_len)
            mem_qk[:keep], mem_v[:keep], mem_end = qk[P - keep:P], v[P - keep:P], keep
        T = round_up(rows_qk.shape[0], C)
        pad = lambda x: torch.cat([x, torch.zeros(T - x.shape[0], x.shape[1], dtype=x.dtype)])
        rows_qk, rows_v = pad(rows_qk), pad(rows_v)
        b = hash_rows(rows_qk, rotations, lsh)
        # Zero rows hash to bucket 0 and are later positions: causally masked, as full_pass's padding.
        out[:P] = full_pass(rows_qk, rows_v, b, P, lsh, causal=True)
        kept = b[:, :P][:, -mem_len:]
        buckets[:, :kept.shape[1]] = kept
        buckets_idx = P
        start = P
    for t in range(start, N):
        if mem_end + 1 > mem_len:  # drop the oldest predict_drop_len rows
            mem_qk = torch.cat([mem_qk[drop:], torch.zeros(drop, dk, dtype=qk.dtype)])
            mem_v = torch.cat([mem_v[drop:], torch.zeros(drop, v.shape[1], dtype=v.dtype)])
            mem_end -= drop
        q_start = mem_end
        mem_qk[q_start], mem_v[q_start] = qk[t], v[t]
        mem_end += 1
        if buckets_idx > q_start:  # the stored buckets follow the memory (trax roll_buckets)
            shift = min(buckets_idx - q_start, drop)
            buckets = torch.cat([buckets[:, shift:], torch.zeros(nh, shift, dtype=torch.long)], 1)
        qb = hash_rows(qk[t:t + 1], rotations, lsh)[:, 0]
        buckets[:, q_start] = qb
        valid = (buckets == qb[:, None]).any(0).long()
        j = torch.arange(mem_len)
        prio = torch.where(j > q_start + 1, -(mem_len + j), j) + mem_len * valid
        sel = torch.argsort(prio)[-K:]  # priorities are unique
        keys = length_normalized(mem_qk[sel]) / math.sqrt(dk)
        dots = keys @ qk[t] - MASK_FUTURE * (sel > q_start).to(qk.dtype) - MASK_SELF * (sel == q_start).to(qk.dtype)
        out[t] = torch.softmax(dots, 0) @ mem_v[sel]
        buckets_idx = q_start + 1
    return out


def train_pass(qk, v, rotations, lsh, causal, n_real):
    """The full pass of every head at once, differentiable (training; the encoder and a decoder in
    trax's train mode): the same as full_pass per head. qk [T, H, dk], v [T, H, dv] with rows >=
    n_real padding (never keys, their own last bucket), T such that n_hashes * T is a multiple of
    chunk_len; rotations [H, dk, n_hashes * sum(factors) / 2]. -> [n_real, H * dv]."""
    T, H, dk = qk.shape
    nh, nb, C = lsh['n_hashes'], lsh['n_buckets'], lsh['chunk_len']
    before, after = lsh['n_chunks_before'], lsh['n_chunks_after']
    rv = torch.einsum('thd,hdc->htc', qk, rotations).reshape(H, T, nh, -1).transpose(1, 2)
    buckets = factor_buckets(rv, lsh['factors'])                       # [H, nh, T]
    buckets[:, :, n_real:] = nb
    t = torch.arange(T)
    key = ((torch.arange(nh)[:, None] * (nb + 1) + buckets) * T + t).reshape(H, nh * T)
    order = torch.argsort(key, -1)                                     # [H, nh*T]
    pos = order % T
    qh, vh = qk.transpose(0, 1), v.transpose(0, 1)                     # [H, T, .]
    sq = torch.gather(qh, 1, pos[..., None].expand(-1, -1, dk))
    sv = torch.gather(vh, 1, pos[..., None].expand(-1, -1, vh.shape[-1]))
    sk = length_normalized(sq) / math.sqrt(dk)
    n = nh * T // C
    chunks = lambda x: x.reshape(H, n, C, *x.shape[2:])
    q_c, k_c, v_c, p_c = chunks(sq), chunks(sk), chunks(sv), chunks(pos)
    window = lambda x: torch.cat([torch.roll(x, -i, 1) for i in range(-before, after + 1)], 2)
    k_w, v_w, p_w = window(k_c), window(v_c), window(p_c)
    dots = torch.einsum('hncd,hnkd->hnck', q_c, k_w)
    pq, pk = p_c[..., :, None], p_w[..., None, :]
    masked = pk >= n_real
    if causal:
        masked = masked | (pq < pk)
    dots = dots - MASK_FUTURE * masked.to(dots.dtype) - MASK_SELF * (pq == pk).to(dots.dtype)
    lse = torch.logsumexp(dots, -1, keepdim=True)
    out = (torch.exp(dots - lse) @ v_w).reshape(H, nh * T, -1)
    undo = torch.argsort(order, -1)
    out = torch.gather(out, 1, undo[..., None].expand(-1, -1, out.shape[-1])).reshape(H, nh, T, -1)
    lse = torch.gather(lse.reshape(H, nh * T), 1, undo).reshape(H, nh, T, 1)
    out = (out * torch.softmax(lse, 1)).sum(1)                         # [H, T, dv]
    return out[:, :n_real].transpose(0, 1).reshape(n_real, -1)
