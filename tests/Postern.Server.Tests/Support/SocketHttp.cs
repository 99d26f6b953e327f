using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Postern.Server.Tests.Support;

/// <summary>A response read straight off a socket: what the server put on the wire, nothing interpreted.</summary>
public sealed record SocketResponse(int Status, IReadOnlyList<(string Name, string Value)> Headers, byte[] Body)
{
    public string? Header(string name)
    {
        var values = Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
        return values.Count == 0 ? null : string.Join(", ", values);
    }

    public IEnumerable<string> SetCookies =>
        Headers.Where(h => h.Name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

    public string BodyText => Encoding.UTF8.GetString(Body);

    public override string ToString() => $"{Status} {Header("Content-Type")} {BodyText}";
}

/// <summary>
/// HTTP/1.1 over a bare TCP socket, for requests HttpClient refuses to send: invalid header bytes, a
/// Content-Length that lies, chunked bodies of our own making, methods and targets it would rewrite.
/// The body is written while the response is read, so a server that answers early (413) is seen answering.
/// </summary>
public static class SocketHttp
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Request head from text; Latin-1, so "\u00ff" is the single byte 0xFF.</summary>
    public static byte[] Head(string method, string target, Uri server, params (string Name, string Value)[] headers)
    {
        var text = new StringBuilder();
        text.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        text.Append("Host: ").Append(server.Authority).Append("\r\n");
        text.Append("Connection: close\r\n");
        foreach (var (name, value) in headers)
            text.Append(name).Append(": ").Append(value).Append("\r\n");
        text.Append("\r\n");
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    /// <summary>
    /// Sends <paramref name="head"/> then whatever <paramref name="writeBody"/> writes; optionally half-closes, then
    /// reads one response.
    /// </summary>
    public static async Task<SocketResponse> ExchangeAsync(Uri server, byte[] head, Func<Stream, CancellationToken, Task>? writeBody = null,
        bool halfCloseAfterBody = false, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cts.Token);
        var stream = client.GetStream();
        var writing = WriteRequestAsync(client, stream, head, writeBody, halfCloseAfterBody, cts.Token);
        try
        {
            return await ReadResponseAsync(stream, cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"No complete response within {timeout ?? DefaultTimeout}: the server hung.");
        }
        finally
        {
            client.Close();
            await IgnoreWriteFailure(writing);
        }
    }

    public static Task<SocketResponse> ExchangeAsync(
        Uri server, byte[] head, byte[] body, bool halfCloseAfterBody = false, TimeSpan? timeout = null) =>
        ExchangeAsync(server, head, (stream, ct) => stream.WriteAsync(body, ct).AsTask(), halfCloseAfterBody, timeout);

    private static async Task WriteRequestAsync(TcpClient client, NetworkStream stream, byte[] head,
        Func<Stream, CancellationToken, Task>? writeBody, bool halfClose, CancellationToken ct)
    {
        await stream.WriteAsync(head, ct);
        if (writeBody is not null)
            await writeBody(stream, ct);
        await stream.FlushAsync(ct);
        if (halfClose)
            client.Client.Shutdown(SocketShutdown.Send);
    }

    // A server that answers before reading the whole body may reset the connection under our writer: that is its right.
    private static async Task IgnoreWriteFailure(Task writing)
    {
        try
        {
            await writing;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private static async Task<SocketResponse> ReadResponseAsync(Stream stream, CancellationToken ct)
    {
        var reader = new ByteReader(stream);
        var statusLine = await reader.ReadLineAsync(ct) ?? throw new IOException("The server closed the connection without a response.");
        var parts = statusLine.Split(' ', 3);
        var status = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new List<(string, string)>();
        while (await reader.ReadLineAsync(ct) is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }
        var response = new SocketResponse(status, headers, []);
        byte[] body;
        if (response.Header("Content-Length") is { } length)
            body = await reader.ReadExactlyAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture), ct);
        else if (response.Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
            body = await ReadChunkedAsync(reader, ct);
        else
            body = await reader.ReadToEndAsync(ct);
        return response with { Body = body };
    }

    private static async Task<byte[]> ReadChunkedAsync(ByteReader reader, CancellationToken ct)
    {
        var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await reader.ReadLineAsync(ct) ?? "0";
            var size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
            if (size == 0)
            {
                while (await reader.ReadLineAsync(ct) is { Length: > 0 })
                {
                }
                return body.ToArray();
            }
            body.Write(await reader.ReadExactlyAsync(size, ct));
            await reader.ReadLineAsync(ct);
        }
    }

    /// <summary>Chunked transfer coding of <paramref name="total"/> bytes of 'a', in chunks of <paramref name="chunk"/>.</summary>
    public static async Task WriteChunkedAsync(Stream stream, byte[] prefix, long total, int chunk, CancellationToken ct)
    {
        await WriteChunkAsync(stream, prefix, ct);
        var filler = Enumerable.Repeat((byte)'a', chunk).ToArray();
        for (long sent = 0; sent < total; sent += chunk)
            await WriteChunkAsync(stream, filler.AsMemory(0, (int)Math.Min(chunk, total - sent)), ct);
        await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), ct);
    }

    private static async Task WriteChunkAsync(Stream stream, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (data.Length == 0)
            return;
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{data.Length:x}\r\n"), ct);
        await stream.WriteAsync(data, ct);
        await stream.WriteAsync("\r\n"u8.ToArray(), ct);
    }

    /// <summary>The <c>detail</c> of a DRF-style JSON error body, asserting the body is one.</summary>
    public static string JsonDetail(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        var detail = document.RootElement.GetProperty("detail");
        Assert.Equal(JsonValueKind.String, detail.ValueKind);
        return detail.GetString()!;
    }

    /// <summary>Buffered reads of lines and byte counts off a stream.</summary>
    private sealed class ByteReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[16384];
        private int _start;
        private int _end;

        private async Task<bool> FillAsync(CancellationToken ct)
        {
            if (_start == _end)
                _start = _end = 0;
            if (_end == _buffer.Length)
            {
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int read;
            try
            {
                read = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
            }
            catch (IOException) when (!ct.IsCancellationRequested)
            {
                read = 0; // a reset after the response is the end of it
            }
            _end += read;
            return read > 0;
        }

        public async Task<string?> ReadLineAsync(CancellationToken ct)
        {
            var line = new MemoryStream();
            while (true)
            {
                for (; _start < _end; _start++)
                {
                    if (_buffer[_start] == (byte)'\n')
                    {
                        _start++;
                        var bytes = line.ToArray();
                        return Encoding.Latin1.GetString(bytes).TrimEnd('\r');
                    }
                    line.WriteByte(_buffer[_start]);
                }
                if (!await FillAsync(ct))
                    return line.Length == 0 ? null : Encoding.Latin1.GetString(line.ToArray());
            }
        }

        public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken ct)
        {
            var result = new byte[count];
            var copied = 0;
            while (copied < count)
            {
                if (_start == _end && !await FillAsync(ct))
                    throw new IOException($"The body ended after {copied} of {count} bytes.");
                var n = Math.Min(count - copied, _end - _start);
                Array.Copy(_buffer, _start, result, copied, n);
                _start += n;
                copied += n;
            }
            return result;
        }

        public async Task<byte[]> ReadToEndAsync(CancellationToken ct)
        {
            var result = new MemoryStream();
            do
            {
                result.Write(_buffer, _start, _end - _start);
                _start = _end;
            }
            while (await FillAsync(ct));
            return result.ToArray();
        }
    }
}
