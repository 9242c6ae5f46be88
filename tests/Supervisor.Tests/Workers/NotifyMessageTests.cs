using PyPE.Supervisor.Workers;

namespace PyPE.Supervisor.Tests.Workers;

public sealed class NotifyMessageTests
{
    [Fact]
    public void Parse_Ready_ReadsWorkerAndPid()
    {
        var message = NotifyMessage.Parse("WORKER=shop-3\nPID=4242\nREADY=1\n");

        Assert.Equal(new NotifyMessage("shop-3", 4242, Ready: true, Failed: false, Error: null), message);
    }

    [Fact]
    public void Parse_FailedWithMultiLineError_KeepsTheWholeTraceback()
    {
        const string traceback = "Traceback (most recent call last):\n  File \"/srv/shop/app.py\", line 3, in <module>\n    import missing\nModuleNotFoundError: No module named 'missing'\n";

        var message = NotifyMessage.Parse("WORKER=shop-3\nPID=4242\nFAILED=1\nERROR=" + traceback);

        Assert.NotNull(message);
        Assert.True(message.Failed);
        Assert.False(message.Ready);
        Assert.Equal(traceback, message.Error);
    }

    [Fact]
    public void Parse_ErrorLinesLookingLikeKeys_StayPartOfTheError()
    {
        var message = NotifyMessage.Parse("WORKER=shop-3\nFAILED=1\nERROR=ValueError\nREADY=1\nWORKER=other");

        Assert.NotNull(message);
        Assert.Equal("shop-3", message.WorkerId);
        Assert.False(message.Ready);
        Assert.Equal("ValueError\nREADY=1\nWORKER=other", message.Error);
    }

    [Fact]
    public void Parse_WithoutWorker_ReturnsNull()
    {
        Assert.Null(NotifyMessage.Parse("PID=4242\nREADY=1\n"));
        Assert.Null(NotifyMessage.Parse(""));
    }

    [Fact]
    public void Parse_BadPidOrUnknownKeys_AreIgnored()
    {
        var message = NotifyMessage.Parse("WORKER=shop-3\nPID=-12\nSTATUS=hello\nnonsense\nREADY=0");

        Assert.Equal(new NotifyMessage("shop-3", 0, Ready: false, Failed: false, Error: null), message);
    }
}
