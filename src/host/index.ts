export { hostFacts, formatHostFacts, type HostFacts } from './facts.js'
