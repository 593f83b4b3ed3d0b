/** Request counters and durations in Prometheus text format (no client library needed for this much). */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private durationSum = 0;
  private durationCount = 0;
  private bytesSent = 0;

  observe(method: string, status: number, seconds: number, bytes: number): void {
    const key = `method="${method}",code="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    this.durationSum += seconds;
    this.durationCount++;
    this.bytesSent += bytes;
  }

  text(): string {
    const lines = ['# HELP registry_http_requests_total Requests by method and status.', '# TYPE registry_http_requests_total counter'];
    for (const [k, v] of [...this.requests].sort()) lines.push(`registry_http_requests_total{${k}} ${v}`);
    lines.push('# HELP registry_http_request_duration_seconds Time to answer a request.', '# TYPE registry_http_request_duration_seconds summary');
    lines.push(`registry_http_request_duration_seconds_sum ${this.durationSum}`, `registry_http_request_duration_seconds_count ${this.durationCount}`);
    lines.push('# HELP registry_http_response_bytes_total Bytes of response bodies.', '# TYPE registry_http_response_bytes_total counter');
    lines.push(`registry_http_response_bytes_total ${this.bytesSent}`);
    return `${lines.join('\n')}\n`;
  }
}
