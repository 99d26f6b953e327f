using System.Buffers.Text;
using System.Net.Sockets;
using System.Text;

namespace Postern.Server.Tests.Support;

/// <summary>
/// One keep-alive HTTP/1.1 connection driven synchronously with requests built once: after its first request it allocates
/// nothing itself, so that what a process allocates around a loop of its requests is the server's doing (the allocation
/// budget tests). Reads each response whole (Content-Length only) into a buffer it keeps.
/// </summary>
public sealed class KeepAliveClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[256 * 1024];

    public KeepAliveClient(Uri server)
    {
        _socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Connect(server.Host, server.Port);
    }

    /// <summary>A request as bytes: the head with Host and the given headers, and the body if any (with its Content-Length).</summary>
    public static byte[] Request(string method, string target, Uri server, string? body = null, params (string Name, string Value)[] headers)
    {
        var text = new StringBuilder();
        text.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        text.Append("Host: ").Append(server.Authority).Append("\r\n");
        foreach (var (name, value) in headers)
            text.Append(name).Append(": ").Append(value).Append("\r\n");
        if (body is not null)
            text.Append("Content-Length: ").Append(Encoding.UTF8.GetByteCount(body)).Append("\r\n");
        text.Append("\r\n").Append(body);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Sends <paramref name="request"/> and reads its response; returns the status code.</summary>
    public int Send(byte[] request)
    {
        _socket.Send(request);
        var read = 0;
        var headEnd = -1;
        while (headEnd < 0)
        {
            read += Receive(read);
            headEnd = _buffer.AsSpan(0, read).IndexOf("\r\n\r\n"u8);
        }
        var head = _buffer.AsSpan(0, headEnd);
        var total = headEnd + 4 + ContentLength(head);
        while (read < total)
            read += Receive(read);
        if (read != total)
            throw new InvalidOperationException("The server sent more than one response.");
        // "HTTP/1.1 200 OK"
        return Utf8Parser.TryParse(head[9..12], out int status, out _) ? status : throw new InvalidOperationException("No status line.");
    }

    private int Receive(int offset)
    {
        if (offset == _buffer.Length)
            throw new InvalidOperationException("The response is larger than the client's buffer.");
        var count = _socket.Receive(_buffer, offset, _buffer.Length - offset, SocketFlags.None);
        return count > 0 ? count : throw new InvalidOperationException("The server closed the connection.");
    }

    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        var at = IndexOfIgnoreCase(head, "\r\ncontent-length:"u8);
        if (at < 0)
            throw new InvalidOperationException("A response without Content-Length.");
        var value = head[(at + "\r\ncontent-length:".Length)..].TrimStart((byte)' ');
        return Utf8Parser.TryParse(value, out int length, out _) ? length : throw new InvalidOperationException("A bad Content-Length.");
    }

    private static int IndexOfIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowercase)
    {
        for (var i = 0; i + lowercase.Length <= text.Length; i++)
        {
            var j = 0;
            while (j < lowercase.Length && Lower(text[i + j]) == lowercase[j])
                j++;
            if (j == lowercase.Length)
                return i;
        }
        return -1;
    }

    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;

    public void Dispose() => _socket.Dispose();
}
