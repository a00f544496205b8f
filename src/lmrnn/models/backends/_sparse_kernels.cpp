// The ``sparse`` back-end's loops in C++, vectorised over the 4 batch rows of a chunk.
//
// The same passes as the numba loops of ``_sparse_kernels.py`` (read its docstring for the
// shapes and the maths), written with GCC/Clang vector types so that each neighbour read is
// one 4-wide load and one fused multiply-add; numba kept these as 4 scalar chains. Compiled at
// first use by ``_sparse_cpp.py`` (``g++ -O3 -march=native``, with ``-fopenmp`` where torch
// runs on GNU OpenMP) into a per-machine cache and loaded with ctypes; each function shares its
// tasks among `threads` workers (``in_steps``): torch's OpenMP threads, or threads of its own.
//
// Layouts, in elements (float32 unless said): drive, out, grad_h and dx are (T, S, B, N) with
// strides (st, ss, sb, 1): any layout whose unit axis is contiguous. hx, rx (T + 1, S, C, N, 4),
// dl, gh (T, S, C, N, 4), w and dw (S, N, K), idx (G, N, K) int32, wt (S, E), toff (G, N + 1)
// int32, tsrc (G, E) int32, dh0 (S, B, N); G = 1 (one graph) or S.

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef float v4 __attribute__((vector_size(16)));

namespace {

const int RELU = 0, TANH = 1;
const float SOFTPLUS_THRESHOLD = 20.0f;  // torch's: softplus(x) = x above it

inline float phi(int act, float v) {
  if (act == RELU) return v <= 0.0f ? 0.0f : v;  // NaN passes through, as in torch.relu
  if (act == TANH) return std::tanh(v);
  return v > SOFTPLUS_THRESHOLD ? v : std::log1p(std::exp(v));
}

inline float dphi(int act, float h) {  // φ'(pre) from h = φ(pre)
  if (act == RELU) return h > 0.0f ? 1.0f : 0.0f;
  if (act == TANH) return 1.0f - h * h;
  return -std::expm1(-h);
}

struct Rows {  // a (T, S, B, N) array with a contiguous unit axis
  float* p;
  int64_t st, ss, sb;
  float* at(int t, int s, int b) const { return p + t * st + s * ss + b * sb; }
};

inline bool all_zero(v4 v) { return v[0] == 0.0f && v[1] == 0.0f && v[2] == 0.0f && v[3] == 0.0f; }

// fn(phase, worker) for phase 0 .. n_phases - 1 and worker 0 .. threads - 1, every worker done
// with a phase before any starts the next. Built with OpenMP (where torch runs on libgomp: the
// same runtime, so the work goes to torch's own threads, which wait for work between torch's
// operations) or else on threads started here.
template <class Fn>
void in_steps(int threads, int n_phases, const Fn& fn) {
  if (threads <= 1) {
    for (int p = 0; p < n_phases; ++p) fn(p, 0);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  {
    const int team = omp_get_num_threads(), me = omp_get_thread_num();
    for (int p = 0; p < n_phases; ++p) {
      for (int worker = me; worker < threads; worker += team) fn(p, worker);  // a smaller team
#pragma omp barrier
    }
  }
#else
  std::barrier sync(threads);
  auto work = [&](int worker) {
    for (int p = 0; p < n_phases; ++p) {
      fn(p, worker);
      sync.arrive_and_wait();
    }
  };
  std::vector<std::thread> pool;
  for (int k = 1; k < threads; ++k) pool.emplace_back(work, k);
  work(0);
  for (auto& th : pool) th.join();
#endif
}

// φ and φ' (from h = φ(pre)) on the 4 lanes; relu as one vector compare (NaN passes through,
// as in torch.relu), tanh and softplus lane by lane.
template <int ACT>
inline v4 phi4(v4 v) {
  if constexpr (ACT == RELU) {
    const v4 zero = {0, 0, 0, 0};
    return v <= zero ? zero : v;
  } else {
    for (int l = 0; l < 4; ++l) v[l] = phi(ACT, v[l]);
    return v;
  }
}

template <int ACT>
inline v4 dphi4(v4 h) {
  if constexpr (ACT == RELU) {
    const v4 zero = {0, 0, 0, 0}, one = {1, 1, 1, 1};
    return h > zero ? one : zero;
  } else {
    for (int l = 0; l < 4; ++l) h[l] = dphi(ACT, h[l]);
    return h;
  }
}

// The batch rows of one chunk in a (T, S, B, N) array at (t, s): n of the 4 lanes exist.
struct Lanes {
  float* row[4];
  int n;
  Lanes(const Rows& a, int t, int s, int b0, int B) : row{}, n(B - b0 < 4 ? B - b0 : 4) {
    for (int l = 0; l < n; ++l) row[l] = a.at(t, s, b0 + l);
  }
  v4 get(int i) const {
    v4 x = {0, 0, 0, 0};
    if (n == 4) {
      x = v4{row[0][i], row[1][i], row[2][i], row[3][i]};
    } else {
      for (int l = 0; l < n; ++l) x[l] = row[l][i];
    }
    return x;
  }
  void put(int i, v4 x) const {
    for (int l = 0; l < n; ++l) row[l][i] = x[l];
  }
};

// f(activation, leaky) with both as compile-time constants, from their run-time values
template <class F>
void dispatch(int act, bool leaky, const F& f) {
  auto with = [&](auto a) { leaky ? f(a, std::true_type{}) : f(a, std::false_type{}); };
  if (act == RELU) with(std::integral_constant<int, RELU>{});
  else if (act == TANH) with(std::integral_constant<int, TANH>{});
  else with(std::integral_constant<int, 2>{});
}

struct Forward {
  int T, S, C, N, K, B, G, act;
  float alpha;
  Rows xs, os;
  const float* w;
  const int32_t* idx;
  float *hx, *rx;

  // h_{t+1} of units [u0, u1) of network s, chunk c, from all of h_t
  void units(int t, int s, int c, int u0, int u1) const {
    dispatch(act, alpha != 1.0f, [&](auto a, auto leaky) {
      this->template run<decltype(a)::value, decltype(leaky)::value>(t, s, c, u0, u1);
    });
  }

  template <int ACT, bool LEAKY>
  void run(int t, int s, int c, int u0, int u1) const {
    const float keep = 1.0f - alpha;
    const size_t plane = (size_t)S * C * N, row = ((size_t)s * C + c) * N;
    const float* ws = w + (size_t)s * N * K;
    const int32_t* ids = idx + (size_t)(G > 1 ? s : 0) * N * K;
    const v4* prev = reinterpret_cast<const v4*>(hx) + t * plane + row;
    v4* nxt = reinterpret_cast<v4*>(hx) + (t + 1) * plane + row;
    v4* rates = reinterpret_cast<v4*>(rx) + (t + 1) * plane + row;
    const Lanes x(xs, t, s, c * 4, B), o(os, t, s, c * 4, B);
    for (int i = u0; i < u1; ++i) {
      const int32_t* id = ids + (size_t)i * K;
      const float* wi = ws + (size_t)i * K;
      v4 a = {0, 0, 0, 0}, e = {0, 0, 0, 0};
      int k = 0;
      for (; k + 1 < K; k += 2) {
        a += wi[k] * prev[id[k]];
        e += wi[k + 1] * prev[id[k + 1]];
      }
      if (k < K) a += wi[k] * prev[id[k]];
      v4 v = phi4<ACT>((a + e) + x.get(i));
      if constexpr (LEAKY) {
        rates[i] = v;
        v = keep * prev[i] + alpha * v;
      }
      nxt[i] = v;
      o.put(i, v);
    }
  }
};

struct Backward {
  int T, S, C, N, B, G, E, act;
  float alpha;
  Rows gs, xs;
  const float *rx, *wt;
  const int32_t *toff, *tsrc;
  float *dl, *gh, *dh0;

  // δ_{T-1} = ∂L/∂h_T ⊙ φ'(r_T) (times alpha, leaky; then G_T = ∂L/∂h_T) of network s, chunk c
  void last(int s, int c) const {
    const bool leaky = alpha != 1.0f;
    const size_t plane = (size_t)S * C * N, row = ((size_t)s * C + c) * N;
    const int t = T - 1;
    const v4* rt = reinterpret_cast<const v4*>(rx) + (t + 1) * plane + row;
    v4* d = reinterpret_cast<v4*>(dl) + t * plane + row;
    v4* g = reinterpret_cast<v4*>(gh) + t * plane + row;
    const Lanes gl(gs, t, s, c * 4, B), xl(xs, t, s, c * 4, B);
    for (int i = 0; i < N; ++i) {
      const v4 gv = gl.get(i);
      v4 di;
      for (int l = 0; l < 4; ++l) di[l] = dphi(act, rt[i][l]);
      if (leaky) {
        g[i] = gv;
        di = alpha * gv * di;
      } else {
        di = gv * di;
      }
      d[i] = di;
      xl.put(i, di);
    }
  }

  // W^T δ_t for units [j0, j1) of network s, chunk c, then δ_{t-1} of them (∂L/∂h_0 at t = 0)
  void units(int t, int s, int c, int j0, int j1) const {
    dispatch(act, alpha != 1.0f, [&](auto a, auto leaky) {
      this->template run<decltype(a)::value, decltype(leaky)::value>(t, s, c, j0, j1);
    });
  }

  template <int ACT, bool LEAKY>
  void run(int t, int s, int c, int j0, int j1) const {
    const float keep = 1.0f - alpha;
    const size_t plane = (size_t)S * C * N, row = ((size_t)s * C + c) * N;
    const int b0 = c * 4, g = G > 1 ? s : 0;
    const float* wts = wt + (size_t)s * E;
    const int32_t* off = toff + (size_t)g * (N + 1);
    const int32_t* src = tsrc + (size_t)g * E;
    const v4* R = reinterpret_cast<const v4*>(rx) + t * plane + row;  // r_t (h_t when not leaky)
    const v4* d = reinterpret_cast<const v4*>(dl) + t * plane + row;
    const int tp = t > 0 ? t - 1 : 0;  // δ_{t-1} and G_t are written for t > 0 only
    v4* ds = reinterpret_cast<v4*>(dl) + tp * plane + row;
    v4* later = reinterpret_cast<v4*>(gh) + t * plane + row;
    v4* now = reinterpret_cast<v4*>(gh) + tp * plane + row;
    const Lanes gl(gs, tp, s, b0, B), xl(xs, tp, s, b0, B);
    for (int j = j0; j < j1; ++j) {
      v4 a = {0, 0, 0, 0}, e = {0, 0, 0, 0};
      const int first = off[j], stop = off[j + 1];
      int q = first;
      for (; q + 1 < stop; q += 2) {
        a += wts[q] * d[src[q]];
        e += wts[q + 1] * d[src[q + 1]];
      }
      if (q < stop) a += wts[q] * d[src[q]];
      a += e;
      if constexpr (LEAKY) a += keep * later[j];
      if (t == 0) {
        for (int l = 0; l < 4 && b0 + l < B; ++l) dh0[((size_t)s * B + b0 + l) * N + j] = a[l];
        continue;
      }
      v4 dj;
      if constexpr (LEAKY) {
        a += gl.get(j);
        now[j] = a;
        dj = (alpha * a) * dphi4<ACT>(R[j]);
      } else {
        dj = (gl.get(j) + a) * dphi4<ACT>(R[j]);
      }
      ds[j] = dj;
      xl.put(j, dj);
    }
  }
};

typedef float v8 __attribute__((vector_size(32), aligned(4)));  // 8 floats at any float
const int IN_BLOCK = 32;  // units per block of the input products: 4 x v8 sums

// The non-zeros of R rows of I values, row by row: row r's are z = start[r] .. start[r + 1] - 1,
// in column col[z] with value val[z].
struct NonZeros {
  std::vector<int> start, col;
  std::vector<float> val;
  void of(const float* x, int R, int I) {
    start.assign(1, 0);
    col.clear();
    val.clear();
    for (int r = 0; r < R; ++r, x += I) {
      for (int c = 0; c < I; ++c)
        if (x[c] != 0.0f) col.push_back(c), val.push_back(x[c]);
      start.push_back((int)col.size());
    }
  }
};

}  // namespace

extern "C" {

// h_1 .. h_T of every (network s, chunk c) row r = s * C + c. mode: 0 one thread; 1 the rows
// shared among `threads` threads, each with its whole time loop; 2 each time step shared among
// them by (row, block of `block` units), a barrier between steps. The same numbers every way.
void forward(int T, int S, int C, int N, int K, int B, int G, int act, float alpha,
             const float* drive, int64_t dst, int64_t dss, int64_t dsb, const float* w,
             const int32_t* idx, float* hx, float* rx, float* out, int64_t ost, int64_t oss,
             int64_t osb, int threads, int mode, int block) {
  const Forward f{T, S, C, N, K, B, G, act, alpha, {const_cast<float*>(drive), dst, dss, dsb},
                  {out, ost, oss, osb}, w, idx, hx, rx};
  const int rows = S * C;
  if (threads <= 1 || mode == 0) threads = 1;
  if (threads == 1 || mode == 1) {
    in_steps(threads, 1, [&](int, int worker) {
      for (int r = worker; r < rows; r += threads)
        for (int t = 0; t < T; ++t) f.units(t, r / C, r % C, 0, N);
    });
    return;
  }
  const int n_blocks = (N + block - 1) / block, tasks = rows * n_blocks;
  in_steps(threads, T, [&](int t, int worker) {
    for (int q = worker; q < tasks; q += threads) {
      const int r = q / n_blocks, u0 = (q % n_blocks) * block;
      f.units(t, r / C, r % C, u0, u0 + block < N ? u0 + block : N);
    }
  });
}

// Backpropagation through time of every row: δ into dl and dx, ∂L/∂h_0 into dh0; threads and
// mode as the forward's.
void backward(int T, int S, int C, int N, int B, int G, int E, int act, float alpha,
              const float* grad_h, int64_t gst, int64_t gss, int64_t gsb, const float* rx,
              const float* wt, const int32_t* toff, const int32_t* tsrc, float* dl, float* gh,
              float* dx, int64_t xst, int64_t xss, int64_t xsb, float* dh0, int threads,
              int mode, int block) {
  const Backward b{T, S, C, N, B, G, E, act, alpha, {const_cast<float*>(grad_h), gst, gss, gsb},
                   {dx, xst, xss, xsb}, rx, wt, toff, tsrc, dl, gh, dh0};
  const int rows = S * C;
  if (threads <= 1 || mode == 0) threads = 1;
  if (threads == 1 || mode == 1) {
    in_steps(threads, 1, [&](int, int worker) {
      for (int r = worker; r < rows; r += threads) {
        b.last(r / C, r % C);
        for (int t = T - 1; t >= 0; --t) b.units(t, r / C, r % C, 0, N);
      }
    });
    return;
  }
  const int n_blocks = (N + block - 1) / block, tasks = rows * n_blocks;
  in_steps(threads, T + 1, [&](int phase, int worker) {
    if (phase == 0) {
      for (int r = worker; r < rows; r += threads) b.last(r / C, r % C);
      return;
    }
    const int t = T - phase;
    for (int q = worker; q < tasks; q += threads) {
      const int r = q / n_blocks, u0 = (q % n_blocks) * block;
      b.units(t, r / C, r % C, u0, u0 + block < N ? u0 + block : N);
    }
  });
}

// dW[s, i, k] = Σ_t Σ_b δ_t[s, b, i] h_{t-1}[s, b, idx[i, k]] for the tasks q = lo, lo +
// stride, ... < hi: one (network s, block of `block` units) each, its sums (4 lanes each) kept
// in `acc` over chunks and time steps, four steps per pass; lanes summed last.
static void weight_grad_tasks(int T, int S, int C, int N, int K, int G, int block,
                              const float* dl, const float* hx, const int32_t* idx, float* dw,
                              int lo, int hi, int stride) {
  const int n_blocks = (N + block - 1) / block;
  const size_t plane = (size_t)S * C * N;
  const v4* D = reinterpret_cast<const v4*>(dl);
  const v4* H = reinterpret_cast<const v4*>(hx);
  std::vector<v4> acc;
  for (int q = lo; q < hi; q += stride) {
    const int s = q / n_blocks, blk = q % n_blocks;
    const int u0 = blk * block, u1 = u0 + block < N ? u0 + block : N;
    const int32_t* ids = idx + (size_t)(G > 1 ? s : 0) * N * K;
    acc.assign((size_t)(u1 - u0) * K, v4{0, 0, 0, 0});
    for (int c = 0; c < C; ++c) {
      const size_t row = ((size_t)s * C + c) * N;
      int t = 0;
      for (; t + 3 < T; t += 4) {  // four steps at a time: one read and write of each sum
        for (int i = u0; i < u1; ++i) {
          v4 dv[4];
          const v4* pv[4];
          int m = 0;  // the steps whose δ is not zero in every row (relu: units off)
          for (int q = 0; q < 4; ++q) {
            const v4 x = D[(t + q) * plane + row + i];
            if (!all_zero(x)) dv[m] = x, pv[m++] = H + (t + q) * plane + row;
          }
          if (m == 0) continue;
          v4* ai = acc.data() + (size_t)(i - u0) * K;
          const int32_t* id = ids + (size_t)i * K;
          if (m == 4) {
            for (int k = 0; k < K; ++k) {
              const int32_t j = id[k];
              ai[k] += (dv[0] * pv[0][j] + dv[1] * pv[1][j]) +
                       (dv[2] * pv[2][j] + dv[3] * pv[3][j]);
            }
          } else if (m == 3) {
            for (int k = 0; k < K; ++k) {
              const int32_t j = id[k];
              ai[k] += (dv[0] * pv[0][j] + dv[1] * pv[1][j]) + dv[2] * pv[2][j];
            }
          } else if (m == 2) {
            for (int k = 0; k < K; ++k) ai[k] += dv[0] * pv[0][id[k]] + dv[1] * pv[1][id[k]];
          } else {
            for (int k = 0; k < K; ++k) ai[k] += dv[0] * pv[0][id[k]];
          }
        }
      }
      for (; t < T; ++t) {
        const v4* d = D + t * plane + row;
        const v4* prev = H + t * plane + row;
        for (int i = u0; i < u1; ++i) {
          const v4 dv = d[i];
          if (all_zero(dv)) continue;
          v4* ai = acc.data() + (size_t)(i - u0) * K;
          const int32_t* id = ids + (size_t)i * K;
          for (int k = 0; k < K; ++k) ai[k] += dv * prev[id[k]];
        }
      }
    }
    float* out = dw + (size_t)s * N * K;
    for (int i = u0; i < u1; ++i) {
      for (int k = 0; k < K; ++k) {
        const v4 x = acc[(size_t)(i - u0) * K + k];
        out[(size_t)i * K + k] = (x[0] + x[1]) + (x[2] + x[3]);
      }
    }
  }
}

// all S x ceil(N / block) tasks, shared among `threads` threads
void weight_grad(int T, int S, int C, int N, int K, int G, int block, const float* dl,
                 const float* hx, const int32_t* idx, float* dw, int threads) {
  const int tasks = S * ((N + block - 1) / block);
  if (threads <= 1) {
    weight_grad_tasks(T, S, C, N, K, G, block, dl, hx, idx, dw, 0, tasks, 1);
    return;
  }
  in_steps(threads, 1, [&](int, int worker) {
    weight_grad_tasks(T, S, C, N, K, G, block, dl, hx, idx, dw, worker, tasks, threads);
  });
}

// The input product of inputs that are mostly zero (one-hot rules, stimuli on part of a ring):
// drive[s, r, :] = bias[s, :] + Σ_c u[s, r, c] wt[s, c, :], the zeros of u skipped, u (S or 1
// with seed stride us = 0, R, I), wt (S, I, N), bias (S, N), out (S, R, N); each of `threads`
// threads writes its own slice of the N units. The rows' non-zeros are listed first; the sums
// are then kept in registers, a block of IN_BLOCK units at a time.
void input_forward(int S, int R, int I, int N, const float* u, int64_t us, const float* wt,
                   const float* bias, float* out, int threads) {
  in_steps(threads, 1, [&](int, int worker) {
    const int n0 = (int)((int64_t)N * worker / threads);
    const int n1 = (int)((int64_t)N * (worker + 1) / threads);
    NonZeros x;
    for (int s = 0; s < S; ++s) {
      const float* w = wt + (size_t)s * I * N;
      const float* b = bias + (size_t)s * N;
      if (s == 0 || us != 0) x.of(u + s * us, R, I);
      for (int r = 0; r < R; ++r) {
        const int z0 = x.start[r], z1 = x.start[r + 1];
        float* o = out + ((size_t)s * R + r) * N;
        int n = n0;
        for (; n + IN_BLOCK <= n1; n += IN_BLOCK) {
          v8 a[4];
          for (int q = 0; q < 4; ++q) a[q] = *(const v8*)(b + n + 8 * q);
          for (int z = z0; z < z1; ++z) {
            const float v = x.val[z];
            const float* wc = w + (size_t)x.col[z] * N + n;
            for (int q = 0; q < 4; ++q) a[q] += v * *(const v8*)(wc + 8 * q);
          }
          for (int q = 0; q < 4; ++q) *(v8*)(o + n + 8 * q) = a[q];
        }
        for (; n < n1; ++n) {
          float a = b[n];
          for (int z = z0; z < z1; ++z) a += x.val[z] * w[(size_t)x.col[z] * N + n];
          o[n] = a;
        }
      }
    }
  });
}

// Its weight gradient: gwt[s, c, :] = Σ_r u[s, r, c] g[s, r, :], g (S, R, N), gwt (S, I, N);
// a block of IN_BLOCK units at a time, its sums over all I inputs kept in L1.
void input_weight_grad(int S, int R, int I, int N, const float* u, int64_t us, const float* g,
                       float* gwt, int threads) {
  in_steps(threads, 1, [&](int, int worker) {
    const int n0 = (int)((int64_t)N * worker / threads);
    const int n1 = (int)((int64_t)N * (worker + 1) / threads);
    NonZeros x;
    std::vector<v8> acc((size_t)I * 4);
    for (int s = 0; s < S; ++s) {
      float* gw = gwt + (size_t)s * I * N;
      const float* gs = g + (size_t)s * R * N;
      if (s == 0 || us != 0) x.of(u + s * us, R, I);
      int n = n0;
      for (; n + IN_BLOCK <= n1; n += IN_BLOCK) {
        std::fill(acc.begin(), acc.end(), v8{0, 0, 0, 0, 0, 0, 0, 0});
        for (int r = 0; r < R; ++r) {
          const int z0 = x.start[r], z1 = x.start[r + 1];
          if (z0 == z1) continue;
          const v8* gr = (const v8*)(gs + (size_t)r * N + n);
          const v8 g0 = gr[0], g1 = gr[1], g2 = gr[2], g3 = gr[3];
          for (int z = z0; z < z1; ++z) {
            const float v = x.val[z];
            v8* a = acc.data() + (size_t)x.col[z] * 4;
            a[0] += v * g0, a[1] += v * g1, a[2] += v * g2, a[3] += v * g3;
          }
        }
        for (int c = 0; c < I; ++c) {
          v8* o = (v8*)(gw + (size_t)c * N + n);
          for (int q = 0; q < 4; ++q) o[q] = acc[(size_t)c * 4 + q];
        }
      }
      for (; n < n1; ++n) {  // the last units, one at a time
        for (int c = 0; c < I; ++c) gw[(size_t)c * N + n] = 0.0f;
        for (int r = 0; r < R; ++r)
          for (int z = x.start[r]; z < x.start[r + 1]; ++z)
            gw[(size_t)x.col[z] * N + n] += x.val[z] * gs[(size_t)r * N + n];
      }
    }
  });
}

// The thread count of the OpenMP runtime the loops run on (torch's, where built with OpenMP:
// torch.set_num_threads sets it), or 0 when they start threads of their own.
int openmp_max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 0;
#endif
}

}  // extern "C"
