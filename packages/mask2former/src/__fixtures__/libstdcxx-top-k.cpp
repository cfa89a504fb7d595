// Writes libstdcxx-top-k.json: the order torch.topk(sorted=False) leaves on CPU, computed with the real libstdc++
// algorithms torch calls (nth_element when k * 64 > n, partial_sort otherwise) and torch's comparator.
// Build: g++ -O2 -std=c++17 libstdcxx-top-k.cpp -o /tmp/topk && /tmp/topk > libstdcxx-top-k.json
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

int main() {
  std::mt19937 rng(7);
  using elem = std::pair<double, long>;
  auto comp = [](const elem& x, const elem& y) {
    return (std::isnan(x.first) && !std::isnan(y.first)) || (x.first > y.first);
  };
  std::printf("[\n");
  int sizes[][2] = {{48, 8}, {56, 8}, {7, 1}, {100, 10}, {300, 40}, {30, 5}, {13, 13}, {1330, 10},
                    {640, 10}, {64, 1}, {200, 3}, {5, 2}, {4, 4}, {300, 299}};
  int count = 0;
  for (auto& s : sizes) {
    for (int mode = 0; mode < 4; mode++) {
      int n = s[0], k = s[1];
      std::vector<double> values(n);
      for (int i = 0; i < n; i++) {
        if (mode == 0) values[i] = std::uniform_real_distribution<float>(0, 1)(rng);
        else if (mode == 1) values[i] = std::uniform_int_distribution<int>(0, 4)(rng) * 0.25;  // many ties
        else if (mode == 2) values[i] = (i % 7 == 3) ? NAN : std::uniform_real_distribution<float>(-1, 1)(rng);
        else values[i] = i % 3 == 0 ? 1.0 : (double)(n - i) / n;  // sorted runs and ties
      }
      std::vector<elem> q(n);
      for (int i = 0; i < n; i++) q[i] = {values[i], i};
      if (k * 64 <= n) std::partial_sort(q.begin(), q.begin() + k, q.end(), comp);
      else std::nth_element(q.begin(), q.begin() + k - 1, q.end(), comp);
      std::printf("%s{\"k\":%d,\"values\":[", count++ ? ",\n" : "", k);
      for (int i = 0; i < n; i++) {
        if (std::isnan(values[i])) std::printf("%snull", i ? "," : "");
        else std::printf("%s%.9g", i ? "," : "", values[i]);
      }
      std::printf("],\"order\":[");
      for (int i = 0; i < k; i++) std::printf("%s%ld", i ? "," : "", q[i].second);
      std::printf("]}");
    }
  }
  std::printf("\n]\n");
}
