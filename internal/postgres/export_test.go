package postgres

// ChannelName exposes channelName to the tests.
var ChannelName = channelName
