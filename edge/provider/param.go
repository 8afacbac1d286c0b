package provider

// Param names a top-level request member whose JSON Request.Param returns
// verbatim: the generation settings the original copies into its
// conversation metadata, so events can carry them
// without decoding the body again.
type Param uint8

// Params kept by Request.Parse.
const (
	ParamMaxTokens           Param = iota // max_tokens
	ParamMaxCompletionTokens              // max_completion_tokens
	ParamMaxOutputTokens                  // max_output_tokens
	ParamTemperature                      // temperature
	ParamTopP                             // top_p
	ParamTopK                             // top_k
	ParamFrequencyPenalty                 // frequency_penalty
	ParamPresencePenalty                  // presence_penalty
	ParamSeed                             // seed
	ParamResponseFormat                   // response_format
	ParamToolChoice                       // tool_choice
	ParamLogitBias                        // logit_bias
	ParamN                                // n
	ParamStop                             // stop
	ParamStopSequences                    // stop_sequences
	ParamUser                             // user
	ParamMetadata                         // metadata
	ParamInstructions                     // instructions
	ParamSystem                           // system
	ParamWebSearch                        // web_search
	ParamComputerUse                      // computer_use
	ParamFileSearch                       // file_search
	ParamParallelToolCalls                // parallel_tool_calls
	ParamReasoning                        // reasoning
	ParamThinking                         // thinking
	ParamStore                            // store
	ParamStreamOptions                    // stream_options
	numParams
)

var paramKeys = [numParams]string{
	"max_tokens", "max_completion_tokens", "max_output_tokens", "temperature",
	"top_p", "top_k", "frequency_penalty", "presence_penalty", "seed",
	"response_format", "tool_choice", "logit_bias", "n", "stop",
	"stop_sequences", "user", "metadata", "instructions", "system",
	"web_search", "computer_use", "file_search", "parallel_tool_calls",
	"reasoning", "thinking", "store", "stream_options",
}

// Key returns the member name.
func (p Param) Key() string {
	if p < numParams {
		return paramKeys[p]
	}
	return ""
}

// paramOf returns the Param for a member name, or numParams.
func paramOf(key []byte) Param {
	switch string(key) {
	case "max_tokens":
		return ParamMaxTokens
	case "max_completion_tokens":
		return ParamMaxCompletionTokens
	case "max_output_tokens":
		return ParamMaxOutputTokens
	case "temperature":
		return ParamTemperature
	case "top_p":
		return ParamTopP
	case "top_k":
		return ParamTopK
	case "frequency_penalty":
		return ParamFrequencyPenalty
	case "presence_penalty":
		return ParamPresencePenalty
	case "seed":
		return ParamSeed
	case "response_format":
		return ParamResponseFormat
	case "tool_choice":
		return ParamToolChoice
	case "logit_bias":
		return ParamLogitBias
	case "n":
		return ParamN
	case "stop":
		return ParamStop
	case "stop_sequences":
		return ParamStopSequences
	case "user":
		return ParamUser
	case "metadata":
		return ParamMetadata
	case "instructions":
		return ParamInstructions
	case "system":
		return ParamSystem
	case "web_search":
		return ParamWebSearch
	case "computer_use":
		return ParamComputerUse
	case "file_search":
		return ParamFileSearch
	case "parallel_tool_calls":
		return ParamParallelToolCalls
	case "reasoning":
		return ParamReasoning
	case "thinking":
		return ParamThinking
	case "store":
		return ParamStore
	case "stream_options":
		return ParamStreamOptions
	}
	return numParams
}
