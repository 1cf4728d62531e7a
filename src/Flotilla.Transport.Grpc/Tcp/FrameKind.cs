namespace Flotilla.Transport.Grpc.Tcp;

/// <summary>What a frame of the framed-TCP peer protocol carries.</summary>
internal enum FrameKind : byte
{
    /// <summary>A request; the receiver answers with a reply frame carrying the same id.</summary>
    Call = 1,
    ReplyOk = 2,
    /// <summary>The handler failed; the payload is the UTF-8 error message.</summary>
    ReplyFailed = 3,
    /// <summary>A one-way message; id 0.</summary>
    Message = 4,
    /// <summary>The caller gave up on call <c>id</c> (cancelled or past its deadline): the server cancels the handler's token.</summary>
    Cancel = 5,
}
