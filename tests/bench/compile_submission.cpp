#include <bits/stdc++.h>
using namespace std;

typedef long long ll;
typedef unsigned long long ull;
typedef pair<int, int> pii;
typedef pair<ll, ll> pll;
typedef vector<int> vi;
typedef vector<ll> vll;

#define all(x) (x).begin(), (x).end()
#define rall(x) (x).rbegin(), (x).rend()
#define sz(x) (int)(x).size()
#define pb push_back
#define eb emplace_back
#define fi first
#define se second
#define rep(i, a, b) for (int i = (a); i < (b); ++i)
#define per(i, a, b) for (int i = (b) - 1; i >= (a); --i)

const ll MOD = 998244353;
const ll INF = (ll)4e18;
const int NEG = INT_MIN;

template <class T> bool chmin(T &a, const T &b) { return b < a ? (a = b, true) : false; }
template <class T> bool chmax(T &a, const T &b) { return a < b ? (a = b, true) : false; }

template <ll M> struct Mint {
	ll v;
	Mint(ll x = 0) : v(((x % M) + M) % M) {}
	Mint &operator+=(const Mint &o) { v += o.v; if (v >= M) v -= M; return *this; }
	Mint &operator-=(const Mint &o) { v -= o.v; if (v < 0) v += M; return *this; }
	Mint &operator*=(const Mint &o) { v = v * o.v % M; return *this; }
	Mint pow(ll e) const {
		Mint r(1), b(*this);
		for (; e > 0; e >>= 1, b *= b)
			if (e & 1) r *= b;
		return r;
	}
	Mint inv() const { return pow(M - 2); }
	Mint &operator/=(const Mint &o) { return *this *= o.inv(); }
	friend Mint operator+(Mint a, const Mint &b) { return a += b; }
	friend Mint operator-(Mint a, const Mint &b) { return a -= b; }
	friend Mint operator*(Mint a, const Mint &b) { return a *= b; }
	friend Mint operator/(Mint a, const Mint &b) { return a /= b; }
	friend ostream &operator<<(ostream &os, const Mint &m) { return os << m.v; }
};
using mint = Mint<MOD>;

struct Combinatorics {
	vector<mint> f, fi;
	explicit Combinatorics(int n) : f(n + 1), fi(n + 1) {
		f[0] = 1;
		rep(i, 1, n + 1) f[i] = f[i - 1] * mint(i);
		fi[n] = f[n].inv();
		per(i, 0, n) fi[i] = fi[i + 1] * mint(i + 1);
	}
	mint C(int n, int k) const {
		if (k < 0 || k > n) return 0;
		return f[n] * fi[k] * fi[n - k];
	}
};

struct DSU {
	vi p, r;
	explicit DSU(int n) : p(n), r(n, 0) { iota(all(p), 0); }
	int find(int x) { return p[x] == x ? x : p[x] = find(p[x]); }
	bool unite(int a, int b) {
		a = find(a), b = find(b);
		if (a == b) return false;
		if (r[a] < r[b]) swap(a, b);
		p[b] = a;
		if (r[a] == r[b]) r[a]++;
		return true;
	}
};

template <class T, class F> struct SegTree {
	int n;
	vector<T> t;
	T id;
	F op;
	SegTree(int n_, T id_, F op_) : n(1), id(id_), op(op_) {
		while (n < n_) n <<= 1;
		t.assign(2 * n, id);
	}
	void set(int i, T v) {
		for (t[i += n] = v; i >>= 1;) t[i] = op(t[2 * i], t[2 * i + 1]);
	}
	T query(int l, int r) const {
		T a = id, b = id;
		for (l += n, r += n; l < r; l >>= 1, r >>= 1) {
			if (l & 1) a = op(a, t[l++]);
			if (r & 1) b = op(t[--r], b);
		}
		return op(a, b);
	}
};

struct Fenwick {
	vll b;
	explicit Fenwick(int n) : b(n + 1, 0) {}
	void add(int i, ll v) { for (++i; i < sz(b); i += i & -i) b[i] += v; }
	ll sum(int i) const { ll s = 0; for (; i > 0; i -= i & -i) s += b[i]; return s; }
	ll sum(int l, int r) const { return sum(r) - sum(l); }
};

vll dijkstra(const vector<vector<pll>> &g, int s) {
	vll d(sz(g), INF);
	priority_queue<pll, vector<pll>, greater<pll>> pq;
	d[s] = 0;
	pq.push({0, s});
	while (!pq.empty()) {
		auto [du, u] = pq.top();
		pq.pop();
		if (du != d[u]) continue;
		for (auto [v, w] : g[u])
			if (chmin(d[v], du + w)) pq.push({d[v], v});
	}
	return d;
}

vi zfunc(const string &s) {
	int n = sz(s);
	vi z(n, 0);
	for (int i = 1, l = 0, r = 0; i < n; ++i) {
		if (i < r) z[i] = min(r - i, z[i - l]);
		while (i + z[i] < n && s[z[i]] == s[i + z[i]]) ++z[i];
		if (i + z[i] > r) l = i, r = i + z[i];
	}
	return z;
}

vi prefix_function(const string &s) {
	int n = sz(s);
	vi pi(n, 0);
	rep(i, 1, n) {
		int k = pi[i - 1];
		while (k > 0 && s[i] != s[k]) k = pi[k - 1];
		if (s[i] == s[k]) ++k;
		pi[i] = k;
	}
	return pi;
}

vi sieve(int n) {
	vector<bool> comp(n + 1, false);
	vi primes;
	rep(i, 2, n + 1) {
		if (comp[i]) continue;
		primes.pb(i);
		for (ll j = (ll)i * i; j <= n; j += i) comp[j] = true;
	}
	return primes;
}

ll lis(const vll &a) {
	vll t;
	for (ll x : a) {
		auto it = lower_bound(all(t), x);
		if (it == t.end()) t.pb(x);
		else *it = x;
	}
	return sz(t);
}

struct Matrix {
	array<array<mint, 2>, 2> m{};
	Matrix operator*(const Matrix &o) const {
		Matrix r;
		rep(i, 0, 2) rep(j, 0, 2) rep(k, 0, 2) r.m[i][j] += m[i][k] * o.m[k][j];
		return r;
	}
};

mint fib(ll n) {
	Matrix r, b;
	r.m[0][0] = r.m[1][1] = 1;
	b.m[0][0] = b.m[0][1] = b.m[1][0] = 1;
	for (; n > 0; n >>= 1, b = b * b)
		if (n & 1) r = r * b;
	return r.m[0][1];
}

ll kruskal(int n, vector<tuple<ll, int, int>> edges) {
	sort(all(edges));
	DSU d(n);
	ll total = 0;
	for (auto &[w, a, b] : edges)
		if (d.unite(a, b)) total += w;
	return total;
}

vi topo(const vector<vi> &g) {
	int n = sz(g);
	vi indeg(n, 0), order;
	for (auto &adj : g)
		for (int v : adj) indeg[v]++;
	deque<int> q;
	rep(i, 0, n) if (indeg[i] == 0) q.pb(i);
	while (!q.empty()) {
		int u = q.front();
		q.pop_front();
		order.pb(u);
		for (int v : g[u])
			if (--indeg[v] == 0) q.pb(v);
	}
	return order;
}

ll knapsack(const vector<pii> &items, int cap) {
	vll dp(cap + 1, 0);
	for (auto [w, v] : items)
		for (int c = cap; c >= w; --c) chmax(dp[c], dp[c - w] + v);
	return *max_element(all(dp));
}

string to_base(ull x, int b) {
	if (x == 0) return "0";
	string s;
	while (x) s += "0123456789abcdefghijklmnopqrstuvwxyz"[x % b], x /= b;
	reverse(all(s));
	return s;
}

int main() {
	ios::sync_with_stdio(false);
	cin.tie(nullptr);

	int n;
	ll seed;
	if (!(cin >> n >> seed)) return 1;
	mt19937_64 rng(seed);
	auto rnd = [&](ll lo, ll hi) { return uniform_int_distribution<ll>(lo, hi)(rng); };

	vll a(n);
	for (auto &x : a) x = rnd(-1000000, 1000000);
	cout << "sum " << accumulate(all(a), 0LL) << '\n';
	cout << "lis " << lis(a) << '\n';

	auto mx = [](ll x, ll y) { return max(x, y); };
	SegTree<ll, decltype(mx)> st(n, LLONG_MIN, mx);
	Fenwick fw(n);
	rep(i, 0, n) st.set(i, a[i]), fw.add(i, a[i]);
	ll check = 0;
	rep(q, 0, n) {
		int l = (int)rnd(0, n - 1), r = (int)rnd(l + 1, n);
		check ^= st.query(l, r) + 31 * fw.sum(l, r);
	}
	cout << "queries " << check << '\n';

	vector<vector<pll>> g(n);
	vector<tuple<ll, int, int>> edges;
	rep(i, 1, n) {
		int p = (int)rnd(0, i - 1);
		ll w = rnd(1, 1000);
		g[p].pb({i, w}), g[i].pb({p, w});
		edges.eb(w, p, i);
	}
	rep(k, 0, n) {
		int u = (int)rnd(0, n - 1), v = (int)rnd(0, n - 1);
		ll w = rnd(1, 1000);
		g[u].pb({v, w}), g[v].pb({u, w});
		edges.eb(w, u, v);
	}
	vll d = dijkstra(g, 0);
	cout << "dist " << *max_element(all(d)) << ' ' << accumulate(all(d), 0LL) % MOD << '\n';
	cout << "mst " << kruskal(n, edges) << '\n';

	vector<vi> dag(n);
	rep(i, 0, n) rep(k, 0, 2) {
		int j = (int)rnd(0, n - 1);
		if (i < j) dag[i].pb(j);
	}
	vi ord = topo(dag);
	cout << "topo " << sz(ord) << ' ' << ord.back() << '\n';

	string s;
	rep(i, 0, n) s += (char)('a' + rnd(0, 2));
	vi z = zfunc(s), pf = prefix_function(s);
	cout << "strings " << accumulate(all(z), 0LL) << ' ' << *max_element(all(pf)) << '\n';

	vi pr = sieve(n * 10);
	cout << "primes " << sz(pr) << ' ' << pr.back() << '\n';

	Combinatorics comb(2 * n);
	mint catalan = comb.C(2 * n, n) / mint(n + 1);
	cout << "catalan " << catalan << " fib " << fib(seed + n) << '\n';

	vector<pii> items;
	rep(i, 0, 50) items.pb({(int)rnd(1, 100), (int)rnd(1, 1000)});
	cout << "knapsack " << knapsack(items, 1000) << '\n';

	map<string, int> freq;
	unordered_map<ll, int> ufreq;
	set<ll> uniq;
	rep(i, 0, n) {
		freq[s.substr(i, 3)]++;
		ufreq[a[i] % 100]++;
		uniq.insert(a[i] / 1000);
	}
	auto best = max_element(all(freq), [](auto &x, auto &y) { return x.se < y.se; });
	cout << "freq " << best->fi << ' ' << best->se << ' ' << sz(ufreq) << ' ' << sz(uniq) << '\n';

	bitset<1024> bits;
	rep(i, 0, n) bits.set((size_t)(a[i] & 1023));
	cout << "bits " << bits.count() << ' ' << to_base((ull)seed * 12345ULL, 36) << '\n';

	vector<double> xs;
	rep(i, 0, 16) xs.pb(sqrt((double)i) + sin((double)i));
	cout << fixed << setprecision(6) << "float " << accumulate(all(xs), 0.0) << '\n';

	optional<int> found;
	rep(i, 0, n) if (a[i] % 97 == 0) { found = i; break; }
	cout << "found " << (found ? to_string(*found) : string("none")) << '\n';
	return 0;
}
